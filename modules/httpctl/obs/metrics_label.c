/**
 * @file metrics_label.c  A Prometheus label value, escaped
 *
 * The text format (0.0.4) quotes label values; inside the quotes a
 * backslash, a double quote and a newline are written \\, \" and \n,
 * and every other byte as it is (UTF-8 included). Line ids and the like
 * come from clients and phones: without this a quote in one would break
 * the whole scrape.
 *
 * Pure: no state, no thread of its own.
 */

#include "sipphone.h"
#include "obs/obs.h"


/**
 * Print a label value, escaped (use with %H); NULL prints nothing
 *
 * @param pf  Print function
 * @param v   The value
 *
 * @return 0 if success, otherwise errorcode
 */
int metrics_label_print(struct re_printf *pf, const char *v)
{
	int err = 0;

	for (; v && *v && !err; v++) {
		switch (*v) {

		case '\\': err = re_hprintf(pf, "\\\\"); break;
		case '"':  err = re_hprintf(pf, "\\\""); break;
		case '\n': err = re_hprintf(pf, "\\n");  break;
		default:   err = pf->vph(v, 1, pf->arg); break;
		}
	}

	return err;
}
