/*
 * ls_auth.h: Lightspeed R-Series OAuth2 tokens.  Access tokens expire
 * (about an hour); refresh tokens rotate on every refresh and the old pair
 * dies, so each new pair is written to the token file (atomically, mode
 * 0600) before the new access token is used.
 */
#ifndef IG_LS_AUTH_H
#define IG_LS_AUTH_H

#include "err.h"
#include "http.h"
#include "ls.h"
#include "ts.h"

struct ig_ls_auth {
	char			*access;
	char			*refresh;
	ig_ts			 expires_at;	/* 0: unknown */
	const struct ig_ls_config *cfg;		/* borrowed */
};

/*
 * Takes the tokens from the token file when it exists, else from the
 * configuration.  0, or -1 with e (IG_EX_CONFIG for an unreadable file).
 */
int	ig_ls_auth_init(struct ig_ls_auth *a, const struct ig_ls_config *c,
	    struct ig_err *e);
void	ig_ls_auth_release(struct ig_ls_auth *a);	/* wipes the tokens */
int	ig_ls_auth_can_refresh(const struct ig_ls_auth *a);
/* Whether the access token is missing or expires within 60 s of now. */
int	ig_ls_auth_expiring(const struct ig_ls_auth *a, ig_ts now);
/*
 * Exchanges the refresh token for a new pair and saves it.  0, or -1 with
 * e: IG_EX_NOPERM when the grant is refused, IG_EX_IOERR when the pair
 * cannot be saved, IG_EX_TEMPFAIL when the endpoint cannot be reached.
 */
int	ig_ls_auth_refresh(struct ig_ls_auth *a, struct ig_http *h,
	    struct ig_err *e);
/* "Authorization: Bearer <token>" into buf. */
void	ig_ls_auth_header(const struct ig_ls_auth *a, char *buf, size_t size);

/* Writes the pair to path atomically with mode 0600. 0 or -1 with e. */
int	ig_ls_auth_save(const struct ig_ls_auth *a, const char *path,
	    struct ig_err *e);

#endif
