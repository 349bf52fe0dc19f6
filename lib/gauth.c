/*
 * gauth.c: Google credentials (see gauth.h).  The service-account JWT is
 * signed with OpenSSL (RSASSA-PKCS1-v1_5 with SHA-256, i.e. RS256).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "b64.h"
#include "gauth.h"
#include "http.h"
#include "log.h"
#include "str.h"

#define DEFAULT_TOKEN_URI	"https://oauth2.googleapis.com/token"
#define METADATA_PATH	"/computeMetadata/v1/instance/service-accounts/default/token"

void
ig_gauth_release(struct ig_gauth *g)
{
	char **s[] = { &g->source, &g->project_id, &g->client_email,
	    &g->private_key_id, &g->token_uri, &g->client_id, &g->client_secret,
	    &g->refresh_token, &g->metadata_url, &g->access_token };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		ig_str_wipe(s[i]);
	EVP_PKEY_free(g->key);	/* OpenSSL clears key material on free */
	g->key = NULL;
	g->expires_at = 0;
}

static int
take(char **dst, const json_t *o, const char *key, int secret)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL || *v == '\0')
		return 0;
	if ((*dst = strdup(v)) == NULL)
		return -1;
	if (secret)
		ig_log_secret(v);
	return 1;
}

/* An encrypted key cannot be used unattended: refuse rather than prompt. */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return 0;
}

static int
load_key(struct ig_gauth *g, const char *pem, const char *path, struct ig_err *e)
{
	BIO *bio;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return ig_err_set(e, IG_EX_OSERR, "out of memory");
	g->key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (g->key == NULL || EVP_PKEY_get_base_id(g->key) != EVP_PKEY_RSA)
		return ig_err_set(e, IG_EX_CONFIG,
		    "credentials file '%s': private_key is not an RSA key in PEM form", path);
	return 0;
}

int
ig_gauth_load_file(struct ig_gauth *g, const char *path, struct ig_err *e)
{
	json_error_t je;
	const char *type, *pem;
	json_t *o;
	int r = -1;

	if ((o = json_load_file(path, 0, &je)) == NULL)
		return ig_err_set(e, IG_EX_CONFIG,
		    "cannot read Google credentials '%s': %s", path, je.text);
	type = json_string_value(json_object_get(o, "type"));
	pem = json_string_value(json_object_get(o, "private_key"));
	if ((g->source = strdup(path)) == NULL ||
	    take(&g->project_id, o, "project_id", 0) == -1)
		goto oom;
	if (type != NULL && strcmp(type, "service_account") == 0) {
		g->kind = IG_GAUTH_SERVICE_ACCOUNT;
		if (take(&g->client_email, o, "client_email", 0) != 1 || pem == NULL) {
			ig_err_set(e, IG_EX_CONFIG,
			    "credentials file '%s': a service_account key needs client_email and private_key", path);
			goto out;
		}
		if (take(&g->private_key_id, o, "private_key_id", 0) == -1 ||
		    take(&g->token_uri, o, "token_uri", 0) == -1)
			goto oom;
		if (g->token_uri == NULL && (g->token_uri = strdup(DEFAULT_TOKEN_URI)) == NULL)
			goto oom;
		r = load_key(g, pem, path, e);
	} else if (type != NULL && strcmp(type, "authorized_user") == 0) {
		g->kind = IG_GAUTH_AUTHORIZED_USER;
		if (take(&g->client_id, o, "client_id", 0) != 1 ||
		    take(&g->client_secret, o, "client_secret", 1) != 1 ||
		    take(&g->refresh_token, o, "refresh_token", 1) != 1) {
			ig_err_set(e, IG_EX_CONFIG,
			    "credentials file '%s': an authorized_user file needs client_id, client_secret and refresh_token", path);
			goto out;
		}
		if (take(&g->token_uri, o, "token_uri", 0) == -1)
			goto oom;
		if (g->token_uri == NULL && (g->token_uri = strdup(DEFAULT_TOKEN_URI)) == NULL)
			goto oom;
		r = 0;
	} else
		ig_err_set(e, IG_EX_CONFIG,
		    "credentials file '%s': type must be service_account or authorized_user", path);
	goto out;
oom:
	ig_err_errno(e, IG_EX_OSERR, "cannot load Google credentials");
out:
	json_decref(o);
	return r;
}

int
ig_gauth_init(struct ig_gauth *g, struct ig_err *e)
{
	const char *v;
	char path[4096];
	int n;

	memset(g, 0, sizeof(*g));
	if ((v = ig_str_env("GOOGLE_APPLICATION_CREDENTIALS")) != NULL)
		return ig_gauth_load_file(g, v, e) == -1 ?
		    (ig_gauth_release(g), -1) : 0;
	if ((v = ig_str_env("CLOUDSDK_CONFIG")) != NULL)
		n = snprintf(path, sizeof(path), "%s/application_default_credentials.json", v);
	else if ((v = ig_str_env("HOME")) != NULL)
		n = snprintf(path, sizeof(path), "%s/.config/gcloud/application_default_credentials.json", v);
	else
		n = -1;
	if (n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0)
		return ig_gauth_load_file(g, path, e) == -1 ?
		    (ig_gauth_release(g), -1) : 0;
	g->kind = IG_GAUTH_METADATA;
	v = ig_str_env("GCE_METADATA_HOST");
	g->metadata_default = v == NULL;
	n = snprintf(path, sizeof(path), "http://%s" METADATA_PATH,
	    v != NULL ? v : "metadata.google.internal");
	if (v != NULL && strpbrk(v, "/?#@ \t\r\n") != NULL)
		return ig_err_set(e, IG_EX_CONFIG, "GCE_METADATA_HOST must be host[:port]");
	if ((g->metadata_url = strdup(path)) == NULL || (g->source = strdup(path)) == NULL)
		return ig_err_errno(e, IG_EX_OSERR, "cannot set up credentials");
	return 0;
}

/* Encodes a JSON object as base64url onto b. */
static int
part(struct ig_buf *b, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

	json_decref(o);
	if (s == NULL)
		return -1;
	r = ig_b64url_encode(b, s, strlen(s));
	free(s);
	return r;
}

int
ig_gauth_jwt(const struct ig_gauth *g, ig_ts now, char **out, struct ig_err *e)
{
	struct ig_buf b;
	EVP_MD_CTX *md = NULL;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	json_int_t iat = (json_int_t)(now / IG_TS_SEC);
	int r = -1;

	*out = NULL;
	if (g->kind != IG_GAUTH_SERVICE_ACCOUNT || g->key == NULL)
		return ig_err_set(e, IG_EX_SOFTWARE, "no service-account key to sign with");
	ig_buf_init(&b, 64 * 1024);
	if (part(&b, json_pack("{ss ss ss*}", "alg", "RS256", "typ", "JWT",
	    "kid", g->private_key_id)) == -1 || ig_buf_add(&b, ".", 1) == -1 ||
	    part(&b, json_pack("{ss ss ss sI sI}", "iss", g->client_email,
	    "scope", IG_GAUTH_SCOPE, "aud", g->token_uri, "iat", iat,
	    "exp", iat + 3600)) == -1)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g->key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)b.data, b.len) != 1) {
		ig_err_set(e, IG_EX_CONFIG, "cannot sign the service-account JWT with the key from '%s'",
		    g->source);
		goto done;
	}
	if (ig_buf_add(&b, ".", 1) == -1 || ig_b64url_encode(&b, sig, siglen) == -1)
		goto out;
	*out = ig_buf_detach(&b);
	r = 0;
	goto done;
out:
	ig_err_set(e, IG_EX_OSERR, "cannot build the service-account JWT");
done:
	EVP_MD_CTX_free(md);
	ig_buf_release(&b);
	return r;
}

/* Builds the token request for the credentials' kind into req (body in *body, new). */
static int
token_request(struct ig_gauth *g, struct ig_http_req *req, char **body,
    struct ig_err *e)
{
	static const char *form[] = {
	    "Content-Type: application/x-www-form-urlencoded",
	    "Accept: application/json", NULL };
	static const char *meta[] = { "Metadata-Flavor: Google", NULL };
	struct ig_buf b;
	char *jwt = NULL;
	ig_ts now;

	*body = NULL;
	memset(req, 0, sizeof(*req));
	if (g->kind == IG_GAUTH_METADATA) {
		req->url = g->metadata_url;
		req->headers = meta;
		req->what = "GET metadata token";
		/* Off Google Cloud the default host does not exist: ask once. */
		req->no_retry = g->metadata_default;
		return 0;
	}
	ig_buf_init(&b, 64 * 1024);
	if (g->kind == IG_GAUTH_SERVICE_ACCOUNT) {
		/* Token times are real times: INTEGRATION_NOW pins business dates only. */
		now = ig_ts_wall();
		if (ig_gauth_jwt(g, now, &jwt, e) == -1) {
			ig_buf_release(&b);
			return -1;
		}
		ig_buf_addstr(&b, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=");
		ig_buf_addstr(&b, jwt);
		explicit_bzero(jwt, strlen(jwt));
		free(jwt);
	} else {
		ig_buf_addstr(&b, "grant_type=refresh_token&client_id=");
		ig_http_urlencode(&b, g->client_id);
		ig_buf_addstr(&b, "&client_secret=");
		ig_http_urlencode(&b, g->client_secret);
		ig_buf_addstr(&b, "&refresh_token=");
		ig_http_urlencode(&b, g->refresh_token);
	}
	*body = ig_buf_detach(&b);
	req->method = "POST";
	req->url = g->token_uri;
	req->headers = form;
	req->body = *body;
	req->body_len = strlen(*body);
	req->what = "POST Google token";
	return 0;
}

static int
take_token(struct ig_gauth *g, const struct ig_http_resp *resp, struct ig_err *e)
{
	const char *tok = NULL, *err = NULL, *desc = NULL;
	json_int_t exp = 0;
	json_t *o;
	ig_ts now;

	if (g->kind == IG_GAUTH_METADATA && resp->status == 200) {
		const char *f = ig_http_header(resp, "Metadata-Flavor");

		if (f == NULL || strcmp(f, "Google") != 0)
			return ig_err_set(e, IG_EX_PROTOCOL,
			    "'%s' answered without Metadata-Flavor: Google: not a metadata server", g->source);
	}
	o = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	if (resp->status != 200) {
		json_unpack(o, "{s?s s?s}", "error", &err, "error_description", &desc);
		ig_err_set(e, resp->status >= 400 && resp->status < 500 ?
		    IG_EX_NOPERM : IG_EX_PROTOCOL,
		    "Google refused a token for '%s' (HTTP %ld%s%.40s%s%.120s)", g->source,
		    resp->status, err ? ": " : "", err ? err : "", desc ? ", " : "",
		    desc ? desc : "");
		json_decref(o);
		return -1;
	}
	if (json_unpack(o, "{s:s s?I}", "access_token", &tok, "expires_in", &exp) == -1) {
		json_decref(o);
		return ig_err_set(e, IG_EX_PROTOCOL, "token answer from '%s' holds no access_token",
		    g->source);
	}
	ig_str_wipe(&g->access_token);
	if ((g->access_token = strdup(tok)) == NULL) {
		json_decref(o);
		return ig_err_errno(e, IG_EX_OSERR, "cannot keep the token");
	}
	ig_log_secret(tok);
	json_decref(o);
	now = ig_ts_wall();
	if (exp <= 0)
		exp = 3600;
	else if (exp > 86400)
		exp = 86400;
	g->expires_at = now + exp * IG_TS_SEC;
	return 0;
}

int
ig_gauth_token(struct ig_gauth *g, struct ig_http *h, int force,
    const char **token, struct ig_err *e)
{
	struct ig_http_req req;
	struct ig_http_resp resp;
	char *body = NULL;
	ig_ts now;
	int r = -1;

	now = ig_ts_wall();
	if (!force && g->access_token != NULL && g->expires_at - 60 * IG_TS_SEC > now) {
		*token = g->access_token;
		return 0;
	}
	if (token_request(g, &req, &body, e) == -1)
		return -1;
	ig_http_resp_init(&resp);
	if (ig_http_do(h, &req, &resp, e) == -1) {
		if (g->kind == IG_GAUTH_METADATA) {
			ig_err_prefix(e, "no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is unset, there is no gcloud ADC file, and the metadata server did not answer");
			if (g->metadata_default)
				e->code = IG_EX_CONFIG;
		}
		goto out;
	}
	if (take_token(g, &resp, e) == -1)
		goto out;
	*token = g->access_token;
	r = 0;
out:
	if (body != NULL) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	ig_http_resp_release(&resp);
	return r;
}
