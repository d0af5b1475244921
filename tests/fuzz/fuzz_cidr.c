/**
 * @file fuzz_cidr.c  The REGISTER allow list (sip/cidr.c)
 *
 * Input: an httpctl_reg_allow value. A list that decodes is matched
 * against a few fixed addresses of both families.
 */

#include "sipphone.h"
#include "sip/sip.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrv[] = {
		"127.0.0.1", "192.168.1.50", "10.255.255.255", "::1",
		"fe80::1", "::ffff:192.168.1.50", "2001:db8::7",
	};
	struct cidr_list *cl = NULL;
	char *str = fuzz_str(data, size);
	size_t i;

	if (str && 0 == cidr_list_decode(&cl, str)) {
		for (i = 0; i < ARRAY_SIZE(addrv); i++) {
			struct sa sa;

			if (0 == sa_set_str(&sa, addrv[i], 5060))
				(void)cidr_list_match(cl, &sa);
		}
	}

	mem_deref(cl);
	mem_deref(str);

	return 0;
}
