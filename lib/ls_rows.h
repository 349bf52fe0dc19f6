/*
 * ls_rows.h: Lightspeed sales to ls-fetch rows (integration-records(5)).
 * Pure data mapping, no I/O: R-Series and X-Series sale objects in, one
 * row per (sale, product) out, lines of one product combined.
 */
#ifndef IG_LS_ROWS_H
#define IG_LS_ROWS_H

#include <stdio.h>

#include <jansson.h>

#include "err.h"
#include "ts.h"

struct ig_ls_row {
	char	*product_id;
	char	*product_name;
	double	 quantity;
	double	 price;
};

struct ig_ls_sale {
	char			*sale_id;
	ig_ts			 ts;
	char			*customer_id;
	char			*payment_method;
	struct ig_ls_row	*rows;
	size_t			 nrows;
	unsigned		 lines_skipped;
};

/* What became of one sale. */
enum ig_ls_verdict {
	IG_LS_KEEP,		/* rows to write */
	IG_LS_SKIP,		/* deliberately not written: voided, incomplete, archived, no lines */
	IG_LS_BAD		/* malformed: cannot be turned into rows */
};

/* Looks up a product's name for X-Series lines: borrowed string, NULL for none, or -1 on error. */
typedef int (*ig_ls_name_fn)(void *ctx, const char *product_id,
    const char **name, struct ig_err *e);

/*
 * Maps an R-Series Sale object (with SaleLines, SaleLines.Item,
 * SalePayments, SalePayments.PaymentType loaded) into out, which must be
 * zeroed or released.  On IG_LS_SKIP and IG_LS_BAD, why says why.
 */
enum ig_ls_verdict ig_ls_rows_r(const json_t *sale, struct ig_ls_sale *out,
	    char *why, size_t whysize);

/*
 * Maps an X-Series 2.0 sale; names looks up product names.  Returns -1
 * (with e) only when names fails.
 */
int	ig_ls_rows_x(const json_t *sale, ig_ls_name_fn names, void *ctx,
	    struct ig_ls_sale *out, char *why, size_t whysize,
	    enum ig_ls_verdict *verdict, struct ig_err *e);

/* Writes the sale's rows as NDJSON. 0 or -1 (errno). */
int	ig_ls_sale_write(const struct ig_ls_sale *s, FILE *out);
void	ig_ls_sale_release(struct ig_ls_sale *s);

/*
 * The sale id for messages even when mapping failed (borrowed; "?" when
 * absent).
 */
const char *ig_ls_sale_id_r(const json_t *sale);

/*
 * Normalises a relation that may be an array, a single object, "" or
 * absent: a new array reference holding the elements (borrowed from rel).
 */
json_t	*ig_ls_list(const json_t *container, const char *key);

/* A number that the API may send as a string or a number. 0, or -1 when absent or not finite. */
int	ig_ls_num(const json_t *v, double *out);

/* The JSON form of a quantity or amount: an integer when whole, else a real. New reference. */
json_t	*ig_ls_number(double v);

#endif
