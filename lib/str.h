/*
 * str.h: small string helpers several modules need.
 */
#ifndef IG_STR_H
#define IG_STR_H

/* The environment variable name, or NULL when it is unset or empty.  Borrowed. */
const char *ig_str_env(const char *name);
/* Overwrites a secret string, frees it and sets *s to NULL (NULL-safe). */
void	ig_str_wipe(char **s);

#endif
