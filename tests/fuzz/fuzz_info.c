/**
 * @file fuzz_info.c  SIP INFO bodies: digits and hook flash (sip/info.c)
 *
 * Input: one SIP message as it arrives; an INFO is read as the SIP trace
 * reads it.
 */

#include <assert.h>
#include "sipphone.h"
#include "sip/sip.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct info_signal info;
	struct mbuf *mb;

	mb = mbuf_alloc(size + 1);
	if (!mb)
		return 0;

	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (0 == sip_msg_decode(&msg, mb) &&
	    0 == pl_strcmp(&msg->met, "INFO")) {
		enum info_kind kind = info_decode(&info, msg);

		assert(kind == info.kind);
		assert(kind == INFO_DIGIT ? info.digit != 0 : !info.digit);
	}

	mem_deref(msg);
	mem_deref(mb);

	return 0;
}
