/*
 * ls_auth.c: OAuth2 refresh for the R-Series and the token file.
 *
 * The token file is JSON: {"access_token", "refresh_token", "expires_at"}.
 * It is replaced by write-to-temporary, fsync, rename, fsync of the
 * folder, so a crash leaves either the old pair or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "ls_auth.h"
#include "str.h"

static int
set_token(char **dst, const char *v)
{
	char *c = NULL;

	if (v != NULL && (c = strdup(v)) == NULL)
		return -1;
	ig_str_wipe(dst);
	*dst = c;
	ig_log_secret(v);
	return 0;
}

static int
load_file(struct ig_ls_auth *a, const char *path, struct ig_err *e)
{
	json_error_t je;
	json_t *o;
	const char *at = NULL, *rt = NULL, *exp = NULL;
	struct stat sb;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		return ig_err_errno(e, IG_EX_CONFIG, "cannot read LIGHTSPEED_TOKEN_FILE '%s'", path);
	}
	if (sb.st_mode & 077)
		ig_log(IG_LOG_WARNING, "token file '%s' is readable by others: chmod 600 it", path);
	if ((o = json_load_file(path, 0, &je)) == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "cannot read LIGHTSPEED_TOKEN_FILE '%s': %s", path, je.text);
	if (json_unpack(o, "{s?s s?s s?s}", "access_token", &at, "refresh_token",
	    &rt, "expires_at", &exp) == -1 || (at == NULL && rt == NULL)) {
		json_decref(o);
		return ig_err_set(e, IG_EX_CONFIG,
		    "LIGHTSPEED_TOKEN_FILE '%s' holds no access_token or refresh_token strings", path);
	}
	if ((at != NULL && set_token(&a->access, at) == -1) || (rt != NULL &&
	    set_token(&a->refresh, rt) == -1)) {
		json_decref(o);
		return ig_err_errno(e, IG_EX_OSERR, "cannot load tokens");
	}
	a->expires_at = 0;
	if (exp != NULL && ig_ts_parse(exp, 0, &a->expires_at, NULL) == -1)
		a->expires_at = 0;
	json_decref(o);
	return 0;
}

int
ig_ls_auth_init(struct ig_ls_auth *a, const struct ig_ls_config *c,
    struct ig_err *e)
{
	memset(a, 0, sizeof(*a));
	a->cfg = c;
	if (set_token(&a->access, c->token) == -1 ||
	    set_token(&a->refresh, c->refresh_token) == -1)
		return ig_err_errno(e, IG_EX_OSERR, "cannot load tokens");
	if (c->series == IG_LS_RSERIES && c->token_file != NULL &&
	    load_file(a, c->token_file, e) == -1)
		return -1;
	return 0;
}

void
ig_ls_auth_release(struct ig_ls_auth *a)
{
	ig_str_wipe(&a->access);
	ig_str_wipe(&a->refresh);
}

int
ig_ls_auth_can_refresh(const struct ig_ls_auth *a)
{
	return a->cfg->client_id != NULL && a->cfg->client_secret != NULL &&
	    a->refresh != NULL && a->cfg->oauth_url != NULL;
}

int
ig_ls_auth_expiring(const struct ig_ls_auth *a, ig_ts now)
{
	return a->access == NULL ||
	    (a->expires_at != 0 && a->expires_at - 60 * IG_TS_SEC <= now);
}

void
ig_ls_auth_header(const struct ig_ls_auth *a, char *buf, size_t size)
{
	snprintf(buf, size, "Authorization: Bearer %s",
	    a->access != NULL ? a->access : "");
}

int
ig_ls_auth_save(const struct ig_ls_auth *a, const char *path, struct ig_err *e)
{
	char tmp[4096], dirbuf[4096], ts[IG_TS_LEN];
	json_t *o;
	int fd, dfd, r = -1;
	char *text = NULL;
	size_t len;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return ig_err_set(e, IG_EX_CONFIG, "LIGHTSPEED_TOKEN_FILE path is too long");
	o = json_pack("{ss* ss* ss*}", "access_token", a->access,
	    "refresh_token", a->refresh, "expires_at",
	    a->expires_at ? ig_ts_format(a->expires_at, 0, ts) : NULL);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
		json_decref(o);
		return ig_err_set(e, IG_EX_OSERR, "cannot encode tokens");
	}
	json_decref(o);
	len = strlen(text);
	if ((fd = mkstemp(tmp)) == -1) {	/* mode 0600 */
		ig_err_errno(e, IG_EX_IOERR, "cannot save rotated tokens next to '%s'", path);
		goto out;
	}
	if (fchmod(fd, 0600) == -1 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		ig_err_errno(e, IG_EX_IOERR, "cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		ig_err_errno(e, IG_EX_IOERR, "cannot replace '%s'", path);
		unlink(tmp);
		goto out;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	if ((dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	r = 0;
out:
	explicit_bzero(text, len);
	free(text);
	return r;
}

/* Reads the token endpoint's answer into a.  0 or -1 with e. */
static int
take_grant(struct ig_ls_auth *a, const struct ig_http_resp *resp,
    struct ig_err *e)
{
	const char *at = NULL, *rt = NULL;
	json_int_t expires_in = 0;
	json_t *o;
	ig_ts now;

	o = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	if (o == NULL || json_unpack(o, "{s:s s?s s?I}", "access_token", &at,
	    "refresh_token", &rt, "expires_in", &expires_in) == -1) {
		json_decref(o);
		return ig_err_set(e, IG_EX_PROTOCOL,
		    "token refresh: the answer holds no access_token");
	}
	if (set_token(&a->access, at) == -1 ||
	    (rt != NULL && set_token(&a->refresh, rt) == -1)) {
		json_decref(o);
		return ig_err_errno(e, IG_EX_OSERR, "cannot keep tokens");
	}
	json_decref(o);
	now = ig_ts_wall();	/* token times are real times, whatever INTEGRATION_NOW says */
	a->expires_at = expires_in > 0 ? now + expires_in * IG_TS_SEC : 0;
	return 0;
}

int
ig_ls_auth_refresh(struct ig_ls_auth *a, struct ig_http *h, struct ig_err *e)
{
	const struct ig_ls_config *c = a->cfg;
	const char *hdrs[] = { "Content-Type: application/json",
	    "Accept: application/json", NULL };
	struct ig_http_req req = { 0 };
	struct ig_http_resp resp;
	const char *err = NULL;
	json_t *body, *eo;
	char *text;
	int r = -1;

	if (!ig_ls_auth_can_refresh(a))
		return ig_err_set(e, IG_EX_NOPERM,
		    "the Lightspeed access token was rejected or has expired, and no refresh is configured: set LIGHTSPEED_CLIENT_ID, LIGHTSPEED_CLIENT_SECRET and LIGHTSPEED_REFRESH_TOKEN, or a fresh LIGHTSPEED_TOKEN");
	body = json_pack("{ss ss ss ss}", "grant_type", "refresh_token",
	    "client_id", c->client_id, "client_secret", c->client_secret,
	    "refresh_token", a->refresh);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL)
		return ig_err_set(e, IG_EX_OSERR, "cannot encode the refresh request");
	req.method = "POST";
	req.url = c->oauth_url;
	req.headers = hdrs;
	req.body = text;
	req.body_len = strlen(text);
	req.what = "POST token refresh";
	/*
	 * Retrying a grant whose answer was lost is safe: the old refresh
	 * token is revoked only once the new access token is used, and the
	 * client's 5 attempts stay within the endpoint's 5 per minute.
	 */
	ig_http_resp_init(&resp);
	if (ig_http_do(h, &req, &resp, e) == -1)
		goto out;
	if (resp.status != 200) {
		eo = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
		json_unpack(eo, "{s:s}", "error", &err);
		ig_err_set(e, resp.status >= 400 && resp.status < 500 ?
		    IG_EX_NOPERM : IG_EX_PROTOCOL,
		    "token refresh refused (HTTP %ld%s%.40s): re-authorize the app and put the new refresh token in LIGHTSPEED_REFRESH_TOKEN or the token file",
		    resp.status, err ? ", " : "", err ? err : "");
		json_decref(eo);
		goto out;
	}
	if (take_grant(a, &resp, e) == -1)
		goto out;
	if (c->token_file != NULL && ig_ls_auth_save(a, c->token_file, e) == -1) {
		ig_err_prefix(e, "refreshed tokens could not be saved, so they were not used");
		goto out;
	}
	ig_logj(IG_LOG_INFO, json_pack("{ss*}", "token_file", c->token_file),
	    "refreshed the Lightspeed access token");
	r = 0;
out:
	explicit_bzero(text, strlen(text));
	free(text);
	ig_http_resp_release(&resp);
	return r;
}
