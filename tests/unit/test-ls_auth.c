/*
 * test-ls_auth.c: the R-Series token file of ls_auth.h (atomic save with
 * mode 0600, loading in preference to the configuration) and the expiry
 * logic.  Refreshing over HTTP is covered by the end-to-end tests.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "ls_auth.h"
#include "tap.h"

#define ACCESS		"access-token-0001"
#define REFRESH		"refresh-token-0001"

static char dir[] = "/tmp/test-ls_auth-XXXXXX";
static char path[256];

static void
write_text(const char *p, const char *text, mode_t mode)
{
	FILE *fp = fopen(p, "w");

	if (fp == NULL) {
		perror(p);
		exit(99);
	}
	fputs(text, fp);
	fclose(fp);
	chmod(p, mode);
}

/* The names in dir, sorted and joined by spaces. */
static void
list_dir(char *buf, size_t size)
{
	struct dirent **names;
	int i, n;

	buf[0] = '\0';
	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (buf[0] != '\0')
				strncat(buf, " ", size - strlen(buf) - 1);
			strncat(buf, names[i]->d_name, size - strlen(buf) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static const char *
file_str(const char *p, const char *key, json_t **hold)
{
	*hold = json_load_file(p, 0, NULL);
	return json_string_value(json_object_get(*hold, key));
}

static void
test_save(void)
{
	struct ig_ls_config c;
	struct ig_ls_auth a;
	struct ig_err e = IG_ERR_INIT;
	struct stat sb, sb2;
	char lnk[300], names[256];
	json_t *o;

	memset(&c, 0, sizeof(c));
	c.token = ACCESS;
	c.refresh_token = REFRESH;
	is_int(ig_ls_auth_init(&a, &c, &e), 0, "init from the configuration");
	is_str(a.access, ACCESS, "access token from the configuration");
	is_str(a.refresh, REFRESH, "refresh token from the configuration");
	ok(a.access != c.token, "tokens are copied");
	ig_ts_parse("2026-05-14T19:22:41Z", 0, &a.expires_at, NULL);

	is_int(ig_ls_auth_save(&a, path, &e), 0, "save a new token file");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "mode 0600 (%o)", (unsigned)(sb.st_mode & 0777));
	is_str(file_str(path, "access_token", &o), ACCESS,
	    "file holds the access token");
	json_decref(o);
	is_str(file_str(path, "refresh_token", &o), REFRESH, "and the refresh token");
	json_decref(o);
	is_str(file_str(path, "expires_at", &o), "2026-05-14T19:22:41Z",
	    "and the expiry time");
	json_decref(o);

	/* Replacing: a new file renamed over the old one, nothing left behind. */
	snprintf(lnk, sizeof(lnk), "%s/old-link", dir);
	ok(link(path, lnk) == 0, "hard link to the old file");
	chmod(path, 0644);
	free(a.access);
	free(a.refresh);
	a.access = strdup("access-token-0002");
	a.refresh = strdup("refresh-token-0002");
	a.expires_at = 0;
	is_int(ig_ls_auth_save(&a, path, &e), 0, "save over an existing file");
	ok(stat(path, &sb2) == 0 && sb2.st_ino != sb.st_ino,
	    "the file was replaced, not rewritten in place");
	ok((sb2.st_mode & 0777) == 0600, "the new file is 0600 again");
	is_str(file_str(path, "access_token", &o), "access-token-0002",
	    "new access token saved");
	json_decref(o);
	is_str(file_str(path, "refresh_token", &o), "refresh-token-0002",
	    "new refresh token saved");
	json_decref(o);
	o = json_load_file(path, 0, NULL);
	ok(json_is_null(json_object_get(o, "expires_at")) ||
	    json_object_get(o, "expires_at") == NULL, "unknown expiry saved as null");
	json_decref(o);
	is_str(file_str(lnk, "access_token", &o), ACCESS,
	    "the old file is intact under its other name");
	json_decref(o);
	list_dir(names, sizeof(names));
	is_str(names, "old-link tokens.json", "no temporary files left");
	unlink(lnk);

	snprintf(lnk, sizeof(lnk), "%s/missing/tokens.json", dir);
	is_int(ig_ls_auth_save(&a, lnk, &e), -1, "save into a missing folder fails");
	is_int(e.code, IG_EX_IOERR, "with IG_EX_IOERR");
	list_dir(names, sizeof(names));
	is_str(names, "tokens.json", "and leaves nothing behind");

	ig_ls_auth_release(&a);
	ok(a.access == NULL && a.refresh == NULL, "release clears the tokens");
}

static void
test_load(void)
{
	struct ig_ls_config c;
	struct ig_ls_auth a;
	struct ig_err e = IG_ERR_INIT;
	ig_ts want;
	char *logbuf = NULL, other[300];
	size_t loglen;
	FILE *logfp;

	memset(&c, 0, sizeof(c));
	c.token = "config-access-token";
	c.refresh_token = "config-refresh-token";
	c.token_file = path;
	write_text(path, "{\"access_token\":\"file-access-token\","
	    "\"refresh_token\":\"file-refresh-token\","
	    "\"expires_at\":\"2026-05-14T19:22:41Z\"}\n", 0600);
	is_int(ig_ls_auth_init(&a, &c, &e), 0, "init with a token file");
	is_str(a.access, "file-access-token", "the file's access token wins");
	is_str(a.refresh, "file-refresh-token", "the file's refresh token wins");
	ig_ts_parse("2026-05-14T19:22:41Z", 0, &want, NULL);
	is_int(a.expires_at, want, "expiry read from the file");
	ig_ls_auth_release(&a);

	/* Tokens become log secrets. */
	ig_log_reset();
	logfp = open_memstream(&logbuf, &loglen);
	ig_log_set_stream(logfp);
	write_text(path, "{\"refresh_token\":\"file-refresh-token\"}", 0644);
	is_int(ig_ls_auth_init(&a, &c, &e), 0, "a file with only a refresh token");
	is_str(a.access, "config-access-token",
	    "no access token in the file: the config's is kept");
	is_str(a.refresh, "file-refresh-token", "refresh token from the file");
	is_int(a.expires_at, 0, "expiry unknown");
	ig_log(IG_LOG_INFO, "t=%s %s %s", "config-access-token",
	    "file-refresh-token", "config-refresh-token");
	fflush(logfp);
	ok(strstr(logbuf, "readable by others") != NULL,
	    "a file readable by others draws a warning");
	ok(strstr(logbuf, "token-") == NULL,
	    "every token loaded is redacted in the log");
	ig_ls_auth_release(&a);
	ig_log_reset();
	fclose(logfp);
	free(logbuf);

	c.series = IG_LS_XSERIES;
	is_int(ig_ls_auth_init(&a, &c, &e), 0, "X-Series init");
	is_str(a.refresh, "config-refresh-token", "X-Series ignores the token file");
	ig_ls_auth_release(&a);
	c.series = IG_LS_RSERIES;

	c.token_file = other;
	snprintf(other, sizeof(other), "%s/absent.json", dir);
	is_int(ig_ls_auth_init(&a, &c, &e), 0, "a missing token file is fine");
	is_str(a.access, "config-access-token", "then the config's tokens are used");
	ig_ls_auth_release(&a);

	c.token_file = path;
	write_text(path, "{\"access_token\": ", 0600);
	ig_err_clear(&e);
	is_int(ig_ls_auth_init(&a, &c, &e), -1, "a malformed token file fails");
	is_int(e.code, IG_EX_CONFIG, "with IG_EX_CONFIG");
	ok(strstr(e.text, path) != NULL, "naming the file: %s", e.text);
	ig_ls_auth_release(&a);

	write_text(path, "{\"access_token\": 42, \"refresh_token\": \"r\"}", 0600);
	ig_err_clear(&e);
	is_int(ig_ls_auth_init(&a, &c, &e), -1, "a token that is not a string fails");
	is_int(e.code, IG_EX_CONFIG, "with IG_EX_CONFIG");
	ig_ls_auth_release(&a);

	write_text(path, "{\"other\": \"x\"}", 0600);
	ig_err_clear(&e);
	is_int(ig_ls_auth_init(&a, &c, &e), -1, "a file without tokens fails");
	is_int(e.code, IG_EX_CONFIG, "with IG_EX_CONFIG");
	ig_ls_auth_release(&a);

	snprintf(other, sizeof(other), "%s/x", path);
	c.token_file = other;
	ig_err_clear(&e);
	is_int(ig_ls_auth_init(&a, &c, &e), -1, "a token file under a file fails");
	is_int(e.code, IG_EX_CONFIG, "with IG_EX_CONFIG");
	ig_ls_auth_release(&a);
	ig_log_reset();
}

static void
test_expiring(void)
{
	struct ig_ls_config c;
	struct ig_ls_auth a;
	struct ig_err e = IG_ERR_INIT;
	ig_ts now;
	char hdr[128];

	memset(&c, 0, sizeof(c));
	ig_ts_parse("2026-05-14T18:22:41Z", 0, &now, NULL);
	ig_ls_auth_init(&a, &c, &e);
	ok(ig_ls_auth_expiring(&a, now), "no access token: expiring");
	ig_ls_auth_header(&a, hdr, sizeof(hdr));
	is_str(hdr, "Authorization: Bearer ", "header without a token");
	ok(!ig_ls_auth_can_refresh(&a), "no refresh configured");
	ig_ls_auth_release(&a);

	c.token = ACCESS;
	ig_ls_auth_init(&a, &c, &e);
	ok(!ig_ls_auth_expiring(&a, now), "unknown expiry: not expiring");
	a.expires_at = now + 3600 * IG_TS_SEC;
	ok(!ig_ls_auth_expiring(&a, now), "an hour left: not expiring");
	a.expires_at = now + 61 * IG_TS_SEC;
	ok(!ig_ls_auth_expiring(&a, now), "61 s left: not expiring");
	a.expires_at = now + 60 * IG_TS_SEC;
	ok(ig_ls_auth_expiring(&a, now), "60 s left: expiring");
	a.expires_at = now + 10 * IG_TS_SEC;
	ok(ig_ls_auth_expiring(&a, now), "10 s left: expiring");
	a.expires_at = now - IG_TS_SEC;
	ok(ig_ls_auth_expiring(&a, now), "expired: expiring");
	ig_ls_auth_header(&a, hdr, sizeof(hdr));
	is_str(hdr, "Authorization: Bearer " ACCESS, "bearer header");
	ig_ls_auth_release(&a);

	c.refresh_token = REFRESH;
	c.client_id = "client";
	c.client_secret = "client-secret-0001";
	ig_ls_auth_init(&a, &c, &e);
	ok(!ig_ls_auth_can_refresh(&a), "no oauth_url: cannot refresh");
	c.oauth_url = "http://127.0.0.1:1/token";
	ok(ig_ls_auth_can_refresh(&a), "client, secret, refresh token and URL: can");
	ig_ls_auth_release(&a);
	ig_log_reset();
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 99;
	}
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	test_save();
	test_load();
	test_expiring();
	unlink(path);
	if (!ok(rmdir(dir) == 0, "the scratch folder is left empty"))
		printf("#   %s\n", dir);
	return done_testing();
}
