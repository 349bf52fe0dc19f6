/*
 * test-buf.c: the capped byte buffer of buf.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void
test_append(void)
{
	struct ig_buf b;
	char big[1000];
	int r;

	ig_buf_init(&b, 4096);
	ok(b.data == NULL && b.len == 0, "init allocates nothing");
	is_int(ig_buf_add(&b, "abc", 3), 0, "add");
	is_int(ig_buf_addstr(&b, "def"), 0, "addstr");
	is_int(ig_buf_add(&b, "", 0), 0, "add of nothing");
	is_int(b.len, 6, "len counts the bytes");
	is_str(b.data, "abcdef", "contents are NUL-terminated");
	is_int(ig_buf_add(&b, "g\0h", 3), 0, "add with an embedded NUL");
	is_int(b.len, 9, "embedded NUL counted");
	ok(memcmp(b.data, "abcdefg\0h", 10) == 0, "binary contents kept");

	/* Growth past the first allocation keeps the earlier bytes. */
	memset(big, 'x', sizeof(big));
	ig_buf_reset(&b);
	r = 0;
	for (int i = 0; i < 4; i++)
		r |= ig_buf_add(&b, big, sizeof(big));
	is_int(r, 0, "4000 bytes in four adds");
	is_int(b.len, 4000, "len after growth");
	ok(b.size > b.len && b.size <= b.cap + 1, "size within cap + 1 (%zu)",
	    b.size);
	ok(b.data[0] == 'x' && b.data[3999] == 'x' && b.data[4000] == '\0',
	    "contents intact after growth");
	ig_buf_release(&b);
}

static void
test_printf(void)
{
	struct ig_buf b;

	ig_buf_init(&b, 64);
	is_int(ig_buf_printf(&b, "%s=%d", "n", 42), 0, "printf");
	is_int(ig_buf_printf(&b, ", %.2f", 1.5), 0, "printf appends");
	is_str(b.data, "n=42, 1.50", "printf contents");
	is_int(b.len, strlen("n=42, 1.50"), "printf len");
	is_int(ig_buf_printf(&b, "%s", ""), 0, "printf of nothing");
	is_int(b.len, 10, "len unchanged by empty printf");
	ig_buf_release(&b);
}

static void
test_cap(void)
{
	struct ig_buf b;

	ig_buf_init(&b, 8);
	is_int(ig_buf_addstr(&b, "12345"), 0, "5 of 8 bytes");
	errno = 0;
	is_int(ig_buf_addstr(&b, "6789"), -1, "add past the cap fails");
	is_int(errno, EMSGSIZE, "errno EMSGSIZE");
	is_str(b.data, "12345", "contents unchanged after failed add");
	is_int(b.len, 5, "len unchanged after failed add");
	errno = 0;
	is_int(ig_buf_printf(&b, "%d", 6789), -1, "printf past the cap fails");
	is_int(errno, EMSGSIZE, "printf errno EMSGSIZE");
	is_str(b.data, "12345", "contents unchanged after failed printf");
	is_int(ig_buf_addstr(&b, "678"), 0, "filling exactly to the cap works");
	is_str(b.data, "12345678", "full buffer");
	errno = 0;
	is_int(ig_buf_add(&b, "9", 1), -1, "one more byte fails");
	is_int(errno, EMSGSIZE, "errno EMSGSIZE at the cap");
	is_int(ig_buf_add(&b, "", 0), 0, "adding nothing to a full buffer works");
	is_int(ig_buf_add(&b, "x", SIZE_MAX), -1, "huge n fails without overflow");
	is_int(b.len, 8, "len still 8");
	ig_buf_release(&b);

	ig_buf_init(&b, 0);
	is_int(ig_buf_add(&b, "a", 1), -1, "cap 0 refuses a byte");
	is_int(ig_buf_add(&b, "", 0), 0, "cap 0 accepts nothing");
	is_str(b.data, "", "cap 0 buffer is an empty string");
	ig_buf_release(&b);
}

static void
test_detach_reset_release(void)
{
	struct ig_buf b;
	char *p;

	ig_buf_init(&b, 100);
	p = ig_buf_detach(&b);
	ok(p != NULL, "detach of an empty buffer is not NULL");
	is_str(p, "", "detach of an empty buffer is \"\"");
	free(p);

	ig_buf_addstr(&b, "hello");
	p = ig_buf_detach(&b);
	is_str(p, "hello", "detach hands over the contents");
	ok(b.data == NULL && b.len == 0 && b.size == 0, "detach empties the buffer");
	is_int(ig_buf_addstr(&b, "again"), 0, "buffer usable after detach");
	is_str(b.data, "again", "new contents after detach");
	ok(strcmp(p, "hello") == 0, "detached string independent of the buffer");
	free(p);

	ig_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	ok(b.data != NULL && b.data[0] == '\0',
	    "reset keeps the memory, NUL-terminated");
	ok(b.size > 0, "reset keeps the allocation");
	is_int(b.cap, 100, "reset keeps the cap");
	is_int(ig_buf_addstr(&b, "x"), 0, "add after reset");
	is_str(b.data, "x", "contents after reset");

	ig_buf_release(&b);
	ok(b.data == NULL && b.len == 0 && b.size == 0, "release frees");
	is_int(b.cap, 100, "release keeps the cap");
	is_int(ig_buf_addstr(&b, "reuse"), 0, "buffer usable after release");
	is_str(b.data, "reuse", "contents after release");
	ig_buf_release(&b);
	ig_buf_release(&b);
	ok(b.data == NULL, "release twice is harmless");
	ig_buf_reset(&b);
	ok(b.data == NULL && b.len == 0, "reset of an unallocated buffer");
}

int
main(void)
{
	test_append();
	test_printf();
	test_cap();
	test_detach_reset_release();
	return done_testing();
}
