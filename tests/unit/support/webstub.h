/**
 * @file webstub.h  The web server's reply side, recorded (webstub.c)
 *
 * A test or fuzz target that links webstub.c instead of the web server
 * sees each reply the API router writes in webstub_rep instead of on a
 * socket, and sets the peer address every request comes from.
 *
 * Include sipphone.h first.
 */

/** The last reply web_vreply() or web_reply() was asked for */
struct webstub_reply {
	uint16_t status;
	char *hdrs;            /* header lines, "" if none            */
	char *ctype;           /* content type, NULL if none          */
	char *body;            /* NUL-terminated copy, NULL if none   */
	size_t blen;           /* its length (it may hold NUL bytes)  */
	int calls;             /* replies since webstub_clear()       */
};

extern struct webstub_reply webstub_rep;
extern struct sa webstub_peer;  /* web_conn_peer() of every request */

void webstub_clear(void);
