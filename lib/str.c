/*
 * str.c: the helpers of str.h.
 */
#include <stdlib.h>
#include <string.h>

#include "str.h"

const char *
ig_str_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
ig_str_wipe(char **s)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}
