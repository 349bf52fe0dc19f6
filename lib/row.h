/*
 * row.h: the sales row of integration-records(5), as bq-merge checks it
 * before anything is sent: exact keys, types, a parseable timestamp,
 * finite numbers, bounded strings, non-empty key fields.
 */
#ifndef IG_ROW_H
#define IG_ROW_H

#include <stddef.h>

#include <jansson.h>

#include "ts.h"

#define IG_ROW_ID_MAX	256	/* bytes in sale_id, customer_id, product_id */
#define IG_ROW_TEXT_MAX	4096	/* bytes in product_name, payment_method */

/* A checked row; the strings and numbers are borrowed from the record. */
struct ig_row {
	const json_t	*sale_id, *customer_id, *product_id;
	const json_t	*product_name, *payment_method;	/* JSON null allowed */
	const json_t	*quantity, *price;
	ig_ts		 ts;
};

/* 0 with r filled, or -1 with why (a sentence naming the field). */
int	ig_row_check(const json_t *rec, struct ig_row *r, char *why, size_t size);

#endif
