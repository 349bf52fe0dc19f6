/*
 * test-gauth.c: Google credentials (gauth.h).  A 2048-bit RSA key made
 * here signs service-account JWTs that are checked with its public half;
 * key files of both kinds load or are refused; ig_gauth_init follows
 * the Application Default Credentials order; and tokens are fetched from
 * a scripted HTTP server in a thread (grant forms, caching, the metadata
 * server's flavor header, refusals that keep secrets out of messages).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64.h"
#include "gauth.h"
#include "http.h"
#include "log.h"
#include "ts.h"
#include "tap.h"

#define NOW		INT64_C(1778782961)	/* 2026-05-14T18:22:41Z */
#define NOW_TEXT	"2026-05-14T18:22:41Z"
#define EMAIL		"bq-merge@p-1.iam.gserviceaccount.com"
#define KID		"0123456789abcdef0123456789abcdef01234567"
#define CLIENT_ID	"764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
#define SECRET		"d-FL95Q19q7MQmFpd7hHD0Ty"
#define REFRESH		"1//0gdBpHz-refresh-token-0001"
#define DEFAULT_URI	"https://oauth2.googleapis.com/token"
#define META_PATH	"/computeMetadata/v1/instance/service-accounts/default/token"
#define JWT_GRANT	"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="

static char dir[] = "/tmp/test-gauth-XXXXXX";
static char *made[64];			/* files and folders to remove, in order */
static int nmade;
static EVP_PKEY *rsa, *pub;		/* the key, and its public half alone */
static char *rsa_pem, *ec_pem;		/* PKCS #8 PEM of an RSA and an EC key */
static FILE *logfp;

#include "tserver.h"

static void
remember(const char *path)
{
	int i;

	for (i = 0; i < nmade; i++)
		if (strcmp(made[i], path) == 0)
			return;
	if (nmade < (int)(sizeof(made) / sizeof(made[0])))
		made[nmade++] = strdup(path);
}

static const char *
subdir(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, name);
	if (mkdir(buf, 0700) == -1 && errno != EEXIST) {
		perror(buf);
		exit(99);
	}
	remember(buf);
	return buf;
}

static const char *
write_text(const char *name, const char *text, char *buf, size_t size)
{
	FILE *fp;

	snprintf(buf, size, "%s/%s", dir, name);
	if ((fp = fopen(buf, "w")) == NULL) {
		perror(buf);
		exit(99);
	}
	fputs(text, fp);
	fclose(fp);
	remember(buf);
	return buf;
}

/* Writes o (stolen) as dir/name; the path is in buf. */
static const char *
save(json_t *o, const char *name, char *buf, size_t size)
{
	char *s = json_dumps(o, JSON_INDENT(2));
	const char *p;

	json_decref(o);
	if (s == NULL) {
		printf("# cannot encode %s\n", name);
		exit(99);
	}
	p = write_text(name, s, buf, size);
	free(s);
	return p;
}

static char *
private_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
	    NULL, NULL) != 1 || (n = BIO_get_mem_data(bio, &p)) <= 0) {
		printf("# cannot write a PEM key\n");
		exit(99);
	}
	s = strndup(p, (size_t)n);
	BIO_free(bio);
	return s;
}

static void
make_keys(void)
{
	EVP_PKEY *ec;
	BIO *bio;

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa == NULL || ec == NULL) {
		printf("# cannot generate keys\n");
		exit(99);
	}
	rsa_pem = private_pem(rsa);
	ec_pem = private_pem(ec);
	EVP_PKEY_free(ec);
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, rsa) != 1 ||
	    (pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		printf("# cannot take the public key\n");
		exit(99);
	}
	BIO_free(bio);
}

/* A service_account key file's object (new). */
static json_t *
sa_key(const char *token_uri)
{
	return json_pack("{ss ss ss ss ss ss ss ss}", "type", "service_account",
	    "project_id", "p-1", "private_key_id", KID, "private_key", rsa_pem,
	    "client_email", EMAIL, "client_id", "104723942178834560000",
	    "auth_uri", "https://accounts.google.com/o/oauth2/auth",
	    "token_uri", token_uri);
}

/* An authorized_user file's object (new); token_uri may be NULL. */
static json_t *
user_file(const char *token_uri)
{
	json_t *o = json_pack("{ss ss ss ss ss}", "type", "authorized_user",
	    "client_id", CLIENT_ID, "client_secret", SECRET,
	    "refresh_token", REFRESH, "quota_project_id", "p-2");

	if (token_uri != NULL)
		json_object_set_new(o, "token_uri", json_string(token_uri));
	return o;
}

/* Part i of a JWT, decoded and parsed (new), or NULL. */
static json_t *
jwt_part(const char *jwt, int i)
{
	const char *p = jwt, *end;
	struct ig_buf b;
	json_t *o = NULL;

	for (; i > 0; i--)
		if ((p = strchr(p, '.')) == NULL)
			return NULL;
		else
			p++;
	if ((end = strchr(p, '.')) == NULL)
		end = p + strlen(p);
	ig_buf_init(&b, 65536);
	if (ig_b64url_decode(&b, p, (size_t)(end - p)) == 0 && b.len > 0)
		o = json_loadb(b.data, b.len, 0, NULL);
	ig_buf_release(&b);
	return o;
}

/* Whether the RS256 signature of jwt verifies with the public key. */
static int
verify(const char *jwt)
{
	const char *dot = strrchr(jwt, '.');
	EVP_MD_CTX *md;
	struct ig_buf sig;
	int r = 0;

	if (dot == NULL)
		return 0;
	ig_buf_init(&sig, 4096);
	if (ig_b64url_decode(&sig, dot + 1, strlen(dot + 1)) == 0 &&
	    (md = EVP_MD_CTX_new()) != NULL) {
		r = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		    EVP_DigestVerify(md, (unsigned char *)sig.data, sig.len,
		    (const unsigned char *)jwt, (size_t)(dot - jwt)) == 1;
		EVP_MD_CTX_free(md);
	}
	ig_buf_release(&sig);
	return r;
}

/* Whether the request head holds s, ignoring case. */
static int
has(const char *head, const char *s)
{
	size_t n = strlen(s);

	for (; *head != '\0'; head++)
		if (strncasecmp(head, s, n) == 0)
			return 1;
	return 0;
}

static int
count_char(const char *s, int c)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long
num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void
set_now(ig_ts t)
{
	char buf[IG_TS_LEN];

	setenv("INTEGRATION_NOW", ig_ts_format(t, 0, buf), 1);
}

/* Whether the log so far holds s. */
static int
logged(const char *s)
{
	char buf[65536];
	size_t n;
	long at = ftell(logfp);

	fflush(logfp);
	rewind(logfp);
	n = fread(buf, 1, sizeof(buf) - 1, logfp);
	buf[n] = '\0';
	fseek(logfp, at, SEEK_SET);
	return strstr(buf, s) != NULL;
}

static void
test_load_service_account(void)
{
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char path[512];
	json_t *o;

	save(sa_key("http://127.0.0.1:1/token"), "sa.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), 0, "a service_account key loads: %s",
	    e.text);
	is_int(g.kind, IG_GAUTH_SERVICE_ACCOUNT, "kind service account");
	is_str(g.project_id, "p-1", "project_id");
	is_str(g.token_uri, "http://127.0.0.1:1/token", "token_uri");
	is_str(g.client_email, EMAIL, "client_email");
	is_str(g.private_key_id, KID, "private_key_id");
	is_str(g.source, path, "source names the file");
	ok(g.key != NULL && EVP_PKEY_get_base_id(g.key) == EVP_PKEY_RSA, "an RSA key");
	ok(g.key != NULL && EVP_PKEY_eq(g.key, pub) == 1, "the key of the file");
	ok(g.access_token == NULL && g.expires_at == 0, "no token yet");
	ig_gauth_release(&g);
	ok(g.source == NULL && g.project_id == NULL && g.client_email == NULL &&
	    g.private_key_id == NULL && g.token_uri == NULL && g.key == NULL,
	    "release frees and clears every field");
	ig_gauth_release(&g);
	ok(1, "release twice is harmless");

	o = sa_key("x");
	json_object_del(o, "token_uri");
	json_object_del(o, "project_id");
	save(o, "sa-bare.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), 0, "a key without token_uri loads");
	is_str(g.token_uri, DEFAULT_URI, "token_uri defaults to Google's");
	ok(g.project_id == NULL, "project_id may be absent");
	ig_gauth_release(&g);
}

static void
test_jwt(void)
{
	struct ig_gauth g, u;
	struct ig_err e = IG_ERR_INIT;
	char path[512], *jwt = NULL, *forged, *cs, *out;
	json_t *head, *claims;
	struct ig_buf b;
	const char *dot1, *dot2;

	save(sa_key("http://127.0.0.1:1/token"), "sa.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	is_int(ig_gauth_jwt(&g, NOW * IG_TS_SEC + 654321, &jwt, &e), 0, "JWT signed");
	if (jwt == NULL) {
		ig_gauth_release(&g);
		return;
	}
	is_int(count_char(jwt, '.'), 2, "three parts");
	is_int(strspn(jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_."), strlen(jwt), "base64url characters only, no padding");
	head = jwt_part(jwt, 0);
	claims = jwt_part(jwt, 1);
	ok(json_is_object(head), "the header is a JSON object");
	is_int(json_object_size(head), 3, "with three members");
	is_str(str(head, "alg"), "RS256", "alg RS256");
	is_str(str(head, "typ"), "JWT", "typ JWT");
	is_str(str(head, "kid"), KID, "kid is the private_key_id");
	ok(json_is_object(claims), "the claims are a JSON object");
	is_str(str(claims, "iss"), EMAIL, "iss is the client_email");
	is_str(str(claims, "aud"), "http://127.0.0.1:1/token", "aud is the token_uri");
	is_str(str(claims, "scope"), "https://www.googleapis.com/auth/bigquery",
	    "scope is BigQuery's");
	ok(json_is_integer(json_object_get(claims, "iat")), "iat is an integer");
	is_int(num(claims, "iat"), NOW, "iat is now, in whole seconds");
	is_int(num(claims, "exp"), NOW + 3600, "exp is an hour later");
	ok(json_object_get(claims, "sub") == NULL, "no sub claim");
	ok(verify(jwt), "the signature verifies with the public key (RS256)");

	/* The same signature over other claims must not verify. */
	json_object_set_new(claims, "scope",
	    json_string("https://www.googleapis.com/auth/cloud-platform"));
	cs = json_dumps(claims, JSON_COMPACT);
	dot1 = strchr(jwt, '.');
	dot2 = strrchr(jwt, '.');
	ig_buf_init(&b, 65536);
	ig_buf_add(&b, jwt, (size_t)(dot1 + 1 - jwt));
	ig_b64url_encode(&b, cs, strlen(cs));
	ig_buf_addstr(&b, dot2);
	forged = ig_buf_detach(&b);
	ok(!verify(forged), "a tampered claim fails verification");
	forged[dot1 + 1 - jwt] ^= 1;
	free(forged);
	forged = strdup(jwt);
	forged[dot2 + 1 - jwt] = forged[dot2 + 1 - jwt] == 'A' ? 'B' : 'A';
	ok(!verify(forged), "a tampered signature fails verification");
	free(forged);
	free(cs);
	json_decref(head);
	json_decref(claims);

	is_int(ig_gauth_jwt(&g, NOW * IG_TS_SEC, &out, &e), 0, "signed again");
	ok(out != NULL && strcmp(out, jwt) == 0,
	    "RS256 is deterministic: same time, same JWT");
	free(out);
	free(jwt);

	free(g.private_key_id);
	g.private_key_id = NULL;
	is_int(ig_gauth_jwt(&g, NOW * IG_TS_SEC, &jwt, &e), 0,
	    "a key without private_key_id signs");
	head = jwt_part(jwt, 0);
	ok(head != NULL && json_object_get(head, "kid") == NULL &&
	    json_object_size(head) == 2, "and its header has no kid");
	ok(verify(jwt), "and verifies");
	json_decref(head);
	free(jwt);
	ig_gauth_release(&g);

	save(user_file(NULL), "user.json", path, sizeof(path));
	memset(&u, 0, sizeof(u));
	ig_gauth_load_file(&u, path, &e);
	jwt = (char *)"untouched";
	is_int(ig_gauth_jwt(&u, NOW * IG_TS_SEC, &jwt, &e), -1,
	    "an authorized_user cannot sign");
	ok(jwt == NULL, "*out is NULL on failure");
	ig_gauth_release(&u);
}

static void
test_authorized_user(void)
{
	static const char *const need[] = { "client_id", "client_secret",
	    "refresh_token" };
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char path[512], name[64];
	json_t *o;
	size_t i;

	save(user_file(NULL), "user.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), 0, "an authorized_user file loads: %s",
	    e.text);
	is_int(g.kind, IG_GAUTH_AUTHORIZED_USER, "kind authorized user");
	is_str(g.client_id, CLIENT_ID, "client_id");
	is_str(g.client_secret, SECRET, "client_secret");
	is_str(g.refresh_token, REFRESH, "refresh_token");
	is_str(g.token_uri, DEFAULT_URI, "token_uri defaults to Google's");
	ok(g.project_id == NULL, "quota_project_id is not the project");
	ok(g.key == NULL && g.client_email == NULL, "no key, no client_email");
	ig_log(IG_LOG_NOTICE, "leak test %s and %s", SECRET, REFRESH);
	ok(!logged(SECRET) && !logged(REFRESH) && logged("leak test"),
	    "client_secret and refresh_token are redacted from logs");
	ig_gauth_release(&g);

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		o = user_file(NULL);
		json_object_del(o, need[i]);
		snprintf(name, sizeof(name), "user-no-%s.json", need[i]);
		save(o, name, path, sizeof(path));
		memset(&g, 0, sizeof(g));
		ig_err_clear(&e);
		is_int(ig_gauth_load_file(&g, path, &e), -1, "without %s: refused", need[i]);
		is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
		ok(strstr(e.text, need[i]) != NULL, "the message names %s: %s", need[i],
		    e.text);
		ig_gauth_release(&g);

		o = user_file(NULL);
		json_object_set_new(o, need[i], json_string(""));
		snprintf(name, sizeof(name), "user-empty-%s.json", need[i]);
		save(o, name, path, sizeof(path));
		memset(&g, 0, sizeof(g));
		ig_err_clear(&e);
		is_int(ig_gauth_load_file(&g, path, &e), -1, "%s empty: refused", need[i]);
		is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
		ig_gauth_release(&g);
	}
}

static void
test_bad_files(void)
{
	struct bad {
		const char	*name;
		const char	*key;		/* set to value; NULL: whole file */
		const char	*value;		/* JSON text, or NULL to delete key */
		const char	*names;		/* what the message holds */
	} cases[] = {
		{ "bad-type.json", "type", "\"external_account\"", "type" },
		{ "no-type.json", "type", NULL, "type" },
		{ "num-type.json", "type", "1", "type" },
		{ "no-pem.json", "private_key", NULL, "private_key" },
		{ "num-pem.json", "private_key", "42", "private_key" },
		{ "no-email.json", "client_email", NULL, "client_email" },
		{ "garbage-pem.json", "private_key",
		    "\"-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5\\n-----END PRIVATE KEY-----\\n\"",
		    "private_key" },
		{ "text-pem.json", "private_key", "\"not a key at all\"", "private_key" },
		{ "ec-pem.json", "private_key", NULL, "RSA" },	/* set below */
	};
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char path[512];
	json_t *o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = sa_key("http://127.0.0.1:1/token");
		if (strcmp(cases[i].name, "ec-pem.json") == 0)
			json_object_set_new(o, "private_key", json_string(ec_pem));
		else if (cases[i].value == NULL)
			json_object_del(o, cases[i].key);
		else
			json_object_set_new(o, cases[i].key,
			    json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
		save(o, cases[i].name, path, sizeof(path));
		memset(&g, 0, sizeof(g));
		ig_err_clear(&e);
		is_int(ig_gauth_load_file(&g, path, &e), -1, "%s is refused", cases[i].name);
		is_int(e.code, IG_EX_CONFIG, "%s: IG_EX_CONFIG", cases[i].name);
		ok(strstr(e.text, cases[i].names) != NULL && strstr(e.text, path) != NULL,
		    "%s: the message names the file and '%s': %s", cases[i].name,
		    cases[i].names, e.text);
		ok(strstr(e.text, "BEGIN") == NULL && strstr(e.text, "MII") == NULL,
		    "%s: no key material in the message", cases[i].name);
		ig_gauth_release(&g);
	}

	write_text("not-json.json", "{\"type\": \"service_account\",", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), -1, "a file that is not JSON is refused");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ok(strstr(e.text, path) != NULL, "the message names the file: %s", e.text);
	ig_gauth_release(&g);
	write_text("array.json", "[]", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), -1, "a JSON array is refused");
	ig_gauth_release(&g);
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	memset(&g, 0, sizeof(g));
	is_int(ig_gauth_load_file(&g, path, &e), -1, "a missing file is refused");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ig_gauth_release(&g);
}

static void
clear_env(void)
{
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	unsetenv("CLOUDSDK_CONFIG");
	unsetenv("GCE_METADATA_HOST");
	unsetenv("HOME");
}

static void
test_init(void)
{
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char sa[512], gcloud[512], adc[512], home[512], buf[1024], empty[512];
	char missing[512], broken[512];

	save(sa_key("http://127.0.0.1:1/token"), "sa.json", sa, sizeof(sa));
	subdir("gcloud", gcloud, sizeof(gcloud));
	save(user_file(NULL), "gcloud/application_default_credentials.json", adc,
	    sizeof(adc));
	subdir("home", home, sizeof(home));
	subdir("home/.config", buf, sizeof(buf));
	subdir("home/.config/gcloud", buf, sizeof(buf));
	save(sa_key("http://127.0.0.1:2/token"),
	    "home/.config/gcloud/application_default_credentials.json", buf, sizeof(buf));
	subdir("empty", empty, sizeof(empty));
	snprintf(missing, sizeof(missing), "%s/missing.json", dir);

	clear_env();
	setenv("GOOGLE_APPLICATION_CREDENTIALS", sa, 1);
	setenv("CLOUDSDK_CONFIG", gcloud, 1);
	setenv("HOME", home, 1);
	memset(&g, 0xa5, sizeof(g));
	is_int(ig_gauth_init(&g, &e), 0, "GOOGLE_APPLICATION_CREDENTIALS: %s", e.text);
	is_int(g.kind, IG_GAUTH_SERVICE_ACCOUNT, "it wins over the gcloud ADC file");
	is_str(g.source, sa, "source is its file");
	is_str(g.project_id, "p-1", "project_id from it");
	is_str(g.token_uri, "http://127.0.0.1:1/token", "token_uri from it");
	ok(g.access_token == NULL && g.metadata_url == NULL,
	    "init starts from a cleared struct");
	ig_gauth_release(&g);

	setenv("GOOGLE_APPLICATION_CREDENTIALS", "", 1);
	is_int(ig_gauth_init(&g, &e), 0, "an empty GOOGLE_APPLICATION_CREDENTIALS is unset");
	is_int(g.kind, IG_GAUTH_AUTHORIZED_USER, "then $CLOUDSDK_CONFIG's ADC file");
	is_str(g.source, adc, "$CLOUDSDK_CONFIG/application_default_credentials.json");
	is_str(g.refresh_token, REFRESH, "with its refresh_token");
	ig_gauth_release(&g);

	unsetenv("CLOUDSDK_CONFIG");
	is_int(ig_gauth_init(&g, &e), 0, "without CLOUDSDK_CONFIG");
	snprintf(buf, sizeof(buf), "%s/.config/gcloud/application_default_credentials.json",
	    home);
	is_str(g.source, buf, "~/.config/gcloud/application_default_credentials.json");
	is_str(g.token_uri, "http://127.0.0.1:2/token", "the key in it");
	ig_gauth_release(&g);

	setenv("CLOUDSDK_CONFIG", empty, 1);
	setenv("GCE_METADATA_HOST", "127.0.0.1:8080", 1);
	is_int(ig_gauth_init(&g, &e), 0, "CLOUDSDK_CONFIG without ADC file: %s", e.text);
	is_int(g.kind, IG_GAUTH_METADATA,
	    "the metadata server (CLOUDSDK_CONFIG replaces ~/.config/gcloud)");
	is_str(g.metadata_url, "http://127.0.0.1:8080" META_PATH,
	    "metadata_url from GCE_METADATA_HOST");
	ok(g.token_uri == NULL && g.key == NULL && g.project_id == NULL,
	    "nothing else set");
	ig_gauth_release(&g);

	unsetenv("GCE_METADATA_HOST");
	unsetenv("HOME");
	is_int(ig_gauth_init(&g, &e), 0, "without GCE_METADATA_HOST");
	is_str(g.metadata_url, "http://metadata.google.internal" META_PATH,
	    "metadata.google.internal");
	ig_gauth_release(&g);

	setenv("GCE_METADATA_HOST", "evil.example/steal?x=", 1);
	ig_err_clear(&e);
	is_int(ig_gauth_init(&g, &e), -1, "a GCE_METADATA_HOST with '/' is refused");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG");
	ok(strstr(e.text, "GCE_METADATA_HOST") != NULL, "the message names it: %s", e.text);
	ig_gauth_release(&g);
	setenv("GCE_METADATA_HOST", "user@evil.example", 1);
	is_int(ig_gauth_init(&g, &e), -1, "a GCE_METADATA_HOST with '@' is refused");
	ig_gauth_release(&g);

	unsetenv("GCE_METADATA_HOST");
	setenv("GOOGLE_APPLICATION_CREDENTIALS", missing, 1);
	setenv("CLOUDSDK_CONFIG", gcloud, 1);
	ig_err_clear(&e);
	is_int(ig_gauth_init(&g, &e), -1,
	    "GOOGLE_APPLICATION_CREDENTIALS naming a missing file fails");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG, no fallback to the ADC file");
	ok(g.source == NULL && g.refresh_token == NULL, "and nothing is left held");
	ig_gauth_release(&g);

	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	write_text("gcloud/application_default_credentials.json", "{\"type\":",
	    broken, sizeof(broken));
	is_int(ig_gauth_init(&g, &e), -1, "a broken ADC file fails");
	is_int(e.code, IG_EX_CONFIG, "IG_EX_CONFIG, no fallback to the metadata server");
	ig_gauth_release(&g);
	clear_env();
}

static const char sa_token1[] =
    "{\"access_token\":\"ya29.c.first-token-0001\",\"expires_in\":3599,"
    "\"token_type\":\"Bearer\"}";
static const char sa_token2[] =
    "{\"access_token\":\"ya29.c.second-token-0002\",\"expires_in\":3599,"
    "\"token_type\":\"Bearer\"}";
static const char sa_token3[] =
    "{\"access_token\":\"ya29.c.third-token-0003\",\"token_type\":\"Bearer\"}";

/* The assertion of a JWT-bearer grant body, or NULL. */
static const char *
assertion(const struct seen_req *r)
{
	if (r->body == NULL || strncmp(r->body, JWT_GRANT, strlen(JWT_GRANT)) != 0)
		return NULL;
	return r->body + strlen(JWT_GRANT);
}

static void
test_token_service_account(void)
{
	static const struct step steps[] = {
		{ 200, "Content-Type: application/json\r\n", sa_token1 },
		{ 200, "Content-Type: application/json\r\n", sa_token2 },
		{ 200, "Content-Type: application/json\r\n", sa_token3 },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char uri[128], path[512];
	const char *tok = NULL, *a;
	json_t *claims;
	ig_ts t0, t1, t2, t3;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", sv.port);
	save(sa_key(uri), "sa-live.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	/* Token times are real times: a pinned business clock must not touch them. */
	set_now(NOW * IG_TS_SEC);
	t0 = ig_ts_wall();
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "service-account token: %s", e.text);
	t1 = ig_ts_wall();
	is_str(tok, "ya29.c.first-token-0001", "the access_token");
	ok(g.expires_at >= t0 + 3599 * IG_TS_SEC && g.expires_at <= t1 + 3599 * IG_TS_SEC,
	    "expires_at is the real time plus expires_in");
	is_int(server_count(&sv), 1, "one request");
	tok = NULL;
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "asked again");
	is_str(tok, "ya29.c.first-token-0001", "the cached token");
	is_int(server_count(&sv), 1, "no request for a cached token");
	g.expires_at = ig_ts_wall() + 65 * IG_TS_SEC;
	ig_gauth_token(&g, h, 0, &tok, &e);
	is_str(tok, "ya29.c.first-token-0001", "still cached 65 s before it expires");
	is_int(server_count(&sv), 1, "still one request");
	g.expires_at = ig_ts_wall() + 59 * IG_TS_SEC;
	t2 = ig_ts_wall();
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "59 s before expiry");
	t3 = ig_ts_wall();
	is_str(tok, "ya29.c.second-token-0002", "a new token");
	is_int(server_count(&sv), 2, "a second request");
	is_int(ig_gauth_token(&g, h, 1, &tok, &e), 0, "force");
	is_str(tok, "ya29.c.third-token-0003", "force=1 fetches a new token");
	ok(g.expires_at >= t2 + 3600 * IG_TS_SEC &&
	    g.expires_at <= ig_ts_wall() + 3600 * IG_TS_SEC,
	    "without expires_in a token lasts an hour");
	ig_log(IG_LOG_NOTICE, "token is %s", tok);
	ok(!logged("third-token") && logged("token is [redacted]"),
	    "tokens are redacted from logs");
	is_int(server_stop(&sv), 3, "three requests in all");

	ok(strncmp(sv.req[0].head, "POST /token HTTP/1.1\r\n", 22) == 0,
	    "POST to the token_uri");
	ok(has(sv.req[0].head,
	    "\r\nContent-Type: application/x-www-form-urlencoded"),
	    "form encoded");
	ok((a = assertion(&sv.req[0])) != NULL,
	    "body: grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=...");
	if (a != NULL) {
		is_int(strlen(a), sv.req[0].body_len - strlen(JWT_GRANT),
		    "the assertion ends the body");
		ok(verify(a), "the assertion verifies");
		claims = jwt_part(a, 1);
		ok(num(claims, "iat") >= t0 / IG_TS_SEC && num(claims, "iat") <= t1 / IG_TS_SEC,
		    "its iat is the real time, not INTEGRATION_NOW");
		is_int(num(claims, "exp"), num(claims, "iat") + 3600, "its exp an hour later");
		is_str(str(claims, "aud"), uri, "its aud is the token_uri");
		json_decref(claims);
	}
	if ((a = assertion(&sv.req[1])) != NULL) {
		claims = jwt_part(a, 1);
		ok(verify(a) && num(claims, "iat") >= t2 / IG_TS_SEC &&
		    num(claims, "iat") <= t3 / IG_TS_SEC, "the renewal's JWT is signed anew");
		json_decref(claims);
	} else
		ok(0, "the renewal's JWT is signed anew");
	server_free(&sv);
	ig_gauth_release(&g);
	ok(g.access_token == NULL && g.expires_at == 0, "release drops the token");
	ig_http_free(h);
	unsetenv("INTEGRATION_NOW");
}

static void
test_token_authorized_user(void)
{
	static const struct step steps[] = {
		{ 200, NULL, "{\"access_token\":\"ya29.a0-user-token-0001\","
		    "\"expires_in\":3599,\"scope\":\"https://www.googleapis.com/auth/bigquery\","
		    "\"token_type\":\"Bearer\"}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char uri[128], path[512];
	const char *tok = NULL;
	json_t *o;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/oauth/token", sv.port);
	o = user_file(uri);
	json_object_set_new(o, "client_secret", json_string("s3cr/t+ &=0001"));
	save(o, "user-live.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	set_now(NOW * IG_TS_SEC);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "authorized_user token: %s", e.text);
	is_str(tok, "ya29.a0-user-token-0001", "the access_token");
	is_int(server_stop(&sv), 1, "one request");
	ok(strncmp(sv.req[0].head, "POST /oauth/token HTTP/1.1\r\n", 28) == 0,
	    "POST to the file's token_uri");
	is_str(sv.req[0].body, "grant_type=refresh_token&client_id=" CLIENT_ID
	    "&client_secret=s3cr%2Ft%2B%20%26%3D0001"
	    "&refresh_token=1%2F%2F0gdBpHz-refresh-token-0001",
	    "a refresh-token grant, percent-encoded");
	server_free(&sv);
	ig_gauth_release(&g);
	ig_http_free(h);
	unsetenv("INTEGRATION_NOW");
}

static void
test_token_metadata(void)
{
	static const struct step steps[] = {
		{ 200, "Metadata-Flavor: Google\r\nContent-Type: application/json\r\n",
		    "{\"access_token\":\"ya29.c.metadata-0001\",\"expires_in\":3000,"
		    "\"token_type\":\"Bearer\"}" },
		{ 200, "Content-Type: application/json\r\n",
		    "{\"access_token\":\"ya29.c.impostor-0002\",\"expires_in\":3000,"
		    "\"token_type\":\"Bearer\"}" },
		{ 200, "Metadata-Flavor: Goggle\r\n",
		    "{\"access_token\":\"ya29.c.impostor-0003\",\"expires_in\":3000}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char host[64], empty[512], url[256];
	const char *tok = NULL;

	server_start(&sv, steps, NSTEPS(steps));
	clear_env();
	setenv("CLOUDSDK_CONFIG", subdir("empty", empty, sizeof(empty)), 1);
	snprintf(host, sizeof(host), "127.0.0.1:%d", sv.port);
	setenv("GCE_METADATA_HOST", host, 1);
	is_int(ig_gauth_init(&g, &e), 0, "metadata credentials");
	snprintf(url, sizeof(url), "http://%s" META_PATH, host);
	is_str(g.metadata_url, url, "metadata_url");
	set_now(NOW * IG_TS_SEC);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "metadata token: %s", e.text);
	is_str(tok, "ya29.c.metadata-0001", "the access_token");
	ok(g.expires_at > ig_ts_wall() + 2990 * IG_TS_SEC &&
	    g.expires_at <= ig_ts_wall() + 3000 * IG_TS_SEC, "its expiry, from expires_in");
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 1, &tok, &e), -1,
	    "an answer without Metadata-Flavor: Google is refused");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	ok(strstr(e.text, "Metadata-Flavor") != NULL, "the message says why: %s", e.text);
	ok(strstr(e.text, "impostor") == NULL, "and holds no token");
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 1, &tok, &e), -1,
	    "an answer with another Metadata-Flavor is refused");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	is_int(server_stop(&sv), 3, "three requests");
	ok(strncmp(sv.req[0].head, "GET " META_PATH " HTTP/1.1\r\n",
	    strlen("GET " META_PATH " HTTP/1.1\r\n")) == 0, "GET of the token path");
	ok(strstr(sv.req[0].head, "\r\nMetadata-Flavor: Google") != NULL,
	    "the request carries Metadata-Flavor: Google");
	ok(!has(sv.req[0].head, "\r\nAuthorization:"), "and no Authorization");
	server_free(&sv);
	ig_gauth_release(&g);
	ig_http_free(h);

	/* Nothing listens on a port that was just free. */
	h = client(1);
	server_start(&sv, NULL, 0);
	snprintf(host, sizeof(host), "127.0.0.1:%d", sv.port);
	server_stop(&sv);
	server_free(&sv);
	setenv("GCE_METADATA_HOST", host, 1);
	ig_gauth_init(&g, &e);
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "no metadata server: fails");
	is_int(e.code, IG_EX_TEMPFAIL, "IG_EX_TEMPFAIL");
	ok(strstr(e.text, "GOOGLE_APPLICATION_CREDENTIALS") != NULL,
	    "the message says where credentials were looked for: %s", e.text);
	ig_gauth_release(&g);
	ig_http_free(h);
	clear_env();
	unsetenv("INTEGRATION_NOW");
}

static void
test_token_refused(void)
{
	static const struct step steps[] = {
		{ 400, "Content-Type: application/json\r\n",
		    "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}" },
		{ 200, NULL, "{\"token_type\":\"Bearer\"}" },
		{ 200, NULL, "<html>captive portal</html>" },
	};
	static const struct step user_steps[] = {
		{ 400, "Content-Type: application/json\r\n",
		    "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}" },
		{ 401, "Content-Type: application/json\r\n",
		    "{\"error\":\"invalid_client\",\"error_description\":\"Unauthorized\"}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char uri[128], path[512];
	const char *tok = NULL, *a, *sig;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", sv.port);
	save(sa_key(uri), "sa-refused.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	set_now(NOW * IG_TS_SEC);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "400 invalid_grant fails");
	is_int(e.code, IG_EX_NOPERM, "IG_EX_NOPERM");
	ok(strstr(e.text, "invalid_grant") != NULL && strstr(e.text, "400") != NULL,
	    "the message gives the status and Google's error: %s", e.text);
	ok(g.access_token == NULL, "no token kept");
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "a 200 without access_token fails");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "a 200 that is not JSON fails");
	is_int(e.code, IG_EX_PROTOCOL, "IG_EX_PROTOCOL");
	is_int(server_stop(&sv), 3, "three requests");
	a = assertion(&sv.req[0]);
	ok(a != NULL, "the first request held an assertion");
	sig = a != NULL ? strrchr(a, '.') : NULL;
	ok(sig != NULL && strstr(e.text, sig + 1) == NULL &&
	    strstr(e.text, "assertion") == NULL,
	    "no message holds the assertion");
	ok(a != NULL && !logged(sig + 1), "nor does the log");
	server_free(&sv);
	ig_gauth_release(&g);

	server_start(&sv, user_steps, NSTEPS(user_steps));
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", sv.port);
	save(user_file(uri), "user-refused.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "a revoked refresh token fails");
	is_int(e.code, IG_EX_NOPERM, "IG_EX_NOPERM");
	ok(strstr(e.text, "invalid_grant") != NULL, "the message says invalid_grant: %s",
	    e.text);
	ok(strstr(e.text, SECRET) == NULL && strstr(e.text, REFRESH) == NULL &&
	    strstr(e.text, "0gdBpHz") == NULL,
	    "and holds neither client_secret nor refresh_token");
	ig_err_clear(&e);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), -1, "401 invalid_client fails");
	is_int(e.code, IG_EX_NOPERM, "IG_EX_NOPERM");
	is_int(server_stop(&sv), 2, "two requests");
	ok(!logged(SECRET) && !logged("0gdBpHz"), "no secret reached the log");
	server_free(&sv);
	ig_gauth_release(&g);
	ig_http_free(h);
	unsetenv("INTEGRATION_NOW");
}

/*
 * An absurd expires_in from the token server must not make the token look
 * expired (expires_in * IG_TS_SEC overflows int64_t past 9223372036854 s).
 */
static void
test_token_long_expiry(void)
{
	static const struct step steps[] = {
		{ 200, NULL, "{\"access_token\":\"ya29.c.long-0001\","
		    "\"expires_in\":9223372036855}" },
		{ 200, NULL, "{\"access_token\":\"ya29.c.long-0002\","
		    "\"expires_in\":9223372036855}" },
	};
	struct server sv;
	struct ig_http *h = client(0);
	struct ig_gauth g;
	struct ig_err e = IG_ERR_INIT;
	char uri[128], path[512];
	const char *tok = NULL;

	server_start(&sv, steps, NSTEPS(steps));
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", sv.port);
	save(sa_key(uri), "sa-long.json", path, sizeof(path));
	memset(&g, 0, sizeof(g));
	ig_gauth_load_file(&g, path, &e);
	set_now(NOW * IG_TS_SEC);
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "a token with a huge expires_in");
	ok(g.expires_at > ig_ts_wall(), "expires in the future, not in the past");
	is_int(ig_gauth_token(&g, h, 0, &tok, &e), 0, "asked again");
	is_str(tok, "ya29.c.long-0001", "the cached token");
	is_int(server_stop(&sv), 1, "one request: the token is cached");
	server_free(&sv);
	ig_gauth_release(&g);
	ig_http_free(h);
	unsetenv("INTEGRATION_NOW");
}

int
main(void)
{
	int i;

	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 99;
	}
	setenv("no_proxy", "*", 1);	/* the test server is local, never proxied */
	unsetenv("INTEGRATION_NOW");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	logfp = tmpfile();
	ig_log_set_stream(logfp);
	make_keys();
	test_load_service_account();
	test_jwt();
	test_authorized_user();
	test_bad_files();
	test_init();
	test_token_service_account();
	test_token_authorized_user();
	test_token_metadata();
	test_token_refused();
	test_token_long_expiry();

	for (i = nmade - 1; i >= 0; i--) {
		if (remove(made[i]) == -1)
			printf("# cannot remove %s\n", made[i]);
		free(made[i]);
	}
	if (!ok(rmdir(dir) == 0, "the scratch folder is left empty"))
		printf("#   %s\n", dir);
	ig_log_reset();
	fclose(logfp);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(pub);
	free(rsa_pem);
	free(ec_pem);
	curl_global_cleanup();
	return done_testing();
}
