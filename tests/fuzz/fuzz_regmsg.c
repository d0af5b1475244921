/**
 * @file fuzz_regmsg.c  REGISTER, Contact and Expires parsing (sip/regmsg.c)
 *
 * Input: one SIP message as it arrives in a datagram. libre decodes it
 * as baresip's stack does; a REGISTER then goes through reg_parse(), as
 * the registrar would.
 */

#include "sipphone.h"
#include "sip/sip.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	struct reg_req rr;
	struct mbuf *mb;

	mb = mbuf_alloc(size + 1);
	if (!mb)
		return 0;

	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (0 == sip_msg_decode(&msg, mb) &&
	    0 == pl_strcmp(&msg->met, "REGISTER"))
		(void)reg_parse(&rr, msg, 1800, &reason);

	mem_deref(msg);
	mem_deref(mb);

	return 0;
}
