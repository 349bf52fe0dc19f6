/*
 * gauth.h: Google OAuth access tokens without a Google library, found in
 * the order of Application Default Credentials:
 *   1. GOOGLE_APPLICATION_CREDENTIALS naming a service_account key (an RS256
 *      JWT signed here and exchanged at the key's token_uri) or an
 *      authorized_user file (a refresh-token grant);
 *   2. gcloud's ADC file ($CLOUDSDK_CONFIG or ~/.config/gcloud);
 *   3. the metadata server (GCE_METADATA_HOST, else metadata.google.internal).
 * Tokens are kept until a minute before they expire.
 */
#ifndef IG_GAUTH_H
#define IG_GAUTH_H

#include <openssl/evp.h>

#include "err.h"
#include "http.h"
#include "ts.h"

#define IG_GAUTH_SCOPE	"https://www.googleapis.com/auth/bigquery"

enum ig_gauth_kind {
	IG_GAUTH_SERVICE_ACCOUNT,
	IG_GAUTH_AUTHORIZED_USER,
	IG_GAUTH_METADATA
};

struct ig_gauth {
	enum ig_gauth_kind kind;
	char		*source;	/* the file or URL the credentials came from */
	char		*project_id;	/* from the key file, or NULL */
	char		*client_email;	/* service account */
	char		*private_key_id;
	EVP_PKEY	*key;
	char		*token_uri;
	char		*client_id;	/* authorized user */
	char		*client_secret;
	char		*refresh_token;
	char		*metadata_url;	/* metadata server's token URL */
	int		 metadata_default; /* no GCE_METADATA_HOST: the usual host */
	char		*access_token;
	ig_ts		 expires_at;
};

/* Finds credentials in ADC order.  0, or -1 with e (IG_EX_CONFIG). */
int	ig_gauth_init(struct ig_gauth *g, struct ig_err *e);
void	ig_gauth_release(struct ig_gauth *g);	/* wipes secrets */
/*
 * A valid access token in *token (borrowed until the next call): the
 * cached one, or a new one when it expires within a minute or force is
 * set.  0, or -1 with e (IG_EX_NOPERM refused, IG_EX_TEMPFAIL unreachable).
 */
int	ig_gauth_token(struct ig_gauth *g, struct ig_http *h, int force,
	    const char **token, struct ig_err *e);
/* The signed JWT a service account sends to its token_uri at time now; *out is new. */
int	ig_gauth_jwt(const struct ig_gauth *g, ig_ts now, char **out,
	    struct ig_err *e);
/* Loads a credentials JSON file (service_account or authorized_user). */
int	ig_gauth_load_file(struct ig_gauth *g, const char *path, struct ig_err *e);

#endif
