/**
 * @file test_cidr.c  CIDR lists: decoding, defaults, matching
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


static bool match(const struct cidr_list *cl, const char *addr)
{
	struct sa sa;

	/* sa_set_str() would turn "::ffff:a.b.c.d" into AF_INET: build
	 * those as a dual-stack socket reports them, AF_INET6 */
	if (!strncmp(addr, "::ffff:", 7) && strchr(addr, '.')) {
		uint8_t a6[16] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff};
		struct sa v4;

		assert_int_equal(0, sa_set_str(&v4, addr + 7, 5060));
		memcpy(a6 + 12, &v4.u.in.sin_addr.s_addr, 4);
		sa_set_in6(&sa, a6, 5060);
	}
	else {
		assert_int_equal(0, sa_set_str(&sa, addr, 5060));
	}

	return cidr_list_match(cl, &sa);
}


static void test_cidr_default(void **state)
{
	struct cidr_list *cl = NULL;
	(void)state;

	assert_int_equal(0, cidr_list_decode(&cl, NULL));
	assert_non_null(cl);

	assert_true(match(cl, "10.1.2.3"));
	assert_true(match(cl, "172.16.0.1"));
	assert_true(match(cl, "172.31.255.254"));
	assert_true(match(cl, "192.168.1.50"));
	assert_true(match(cl, "127.0.0.1"));
	assert_true(match(cl, "169.254.10.20"));
	assert_true(match(cl, "::1"));
	assert_true(match(cl, "fd12:3456::1"));
	assert_true(match(cl, "fe80::1"));

	assert_false(match(cl, "8.8.8.8"));
	assert_false(match(cl, "172.32.0.1"));
	assert_false(match(cl, "11.0.0.1"));
	assert_false(match(cl, "2001:db8::1"));
	assert_false(match(cl, "::2"));

	mem_deref(cl);

	/* empty and blank text also mean the default */
	assert_int_equal(0, cidr_list_decode(&cl, ""));
	assert_true(match(cl, "192.168.0.1"));
	assert_false(match(cl, "1.1.1.1"));
	mem_deref(cl);

	assert_int_equal(0, cidr_list_decode(&cl, " , "));
	assert_true(match(cl, "10.0.0.1"));
	mem_deref(cl);
}


static void test_cidr_list(void **state)
{
	struct cidr_list *cl = NULL;
	(void)state;

	assert_int_equal(0, cidr_list_decode(&cl,
		"10.0.0.0/8,::1/128, fe80::/10\t192.0.2.7"));

	assert_true(match(cl, "10.255.255.255"));
	assert_true(match(cl, "::1"));
	assert_true(match(cl, "febf::1"));
	assert_true(match(cl, "192.0.2.7"));

	/* a bare address is a /32 */
	assert_false(match(cl, "192.0.2.8"));
	assert_false(match(cl, "192.168.1.1"));
	assert_false(match(cl, "fec0::1"));
	assert_false(match(cl, "127.0.0.1"));

	mem_deref(cl);
}


static void test_cidr_odd_prefixes(void **state)
{
	struct cidr_list *cl = NULL;
	(void)state;

	/* host bits are ignored; /0 matches its whole family */
	assert_int_equal(0, cidr_list_decode(&cl,
		"192.168.1.77/23 2001:db8::1/33 0.0.0.0/0"));

	assert_true(match(cl, "192.168.0.1"));
	assert_true(match(cl, "192.168.1.255"));
	assert_true(match(cl, "2001:db8:7fff::1"));
	assert_false(match(cl, "2001:db8:8000::1"));
	assert_true(match(cl, "8.8.8.8"));
	assert_false(match(cl, "2001:db9::1"));

	mem_deref(cl);

	assert_int_equal(0, cidr_list_decode(&cl, "::/0"));
	assert_true(match(cl, "2001:db8::1"));
	assert_false(match(cl, "10.0.0.1"));
	mem_deref(cl);
}


static void test_cidr_v4mapped(void **state)
{
	struct cidr_list *cl = NULL;
	(void)state;

	assert_int_equal(0, cidr_list_decode(&cl, "192.168.0.0/16"));

	/* how an IPv4 peer looks on a dual-stack socket */
	assert_true(match(cl, "::ffff:192.168.1.50"));
	assert_false(match(cl, "::ffff:10.0.0.1"));

	mem_deref(cl);

	/* a mapped entry is an IPv4 prefix */
	assert_int_equal(0, cidr_list_decode(&cl, "::ffff:10.0.0.0/104"));
	assert_true(match(cl, "10.1.1.1"));
	assert_true(match(cl, "::ffff:10.1.1.1"));
	assert_false(match(cl, "11.1.1.1"));
	mem_deref(cl);
}


static void test_cidr_bad(void **state)
{
	static const char *badv[] = {
		"10.0.0.0/33",
		"::1/129",
		"10.0.0.0/",
		"/8",
		"10.0.0.0/8/8",
		"10.0.0.0/-1",
		"10.0.0.0/8x",
		"10.0.0/8",
		"10.0.0.256",
		"example.com",
		"fe80::/10,bogus,10.0.0.0/8",
		"1.2.3.4/0008",
		"fe80::1%eth0",
	};
	struct cidr_list *cl;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		cl = NULL;
		assert_int_equal(EINVAL, cidr_list_decode(&cl, badv[i]));
		assert_null(cl);
	}

	assert_int_equal(EINVAL, cidr_list_decode(NULL, "10.0.0.0/8"));
}


static void test_cidr_args(void **state)
{
	struct cidr_list *cl = NULL;
	struct sa sa;
	(void)state;

	assert_int_equal(0, cidr_list_decode(&cl, "0.0.0.0/0"));

	assert_false(cidr_list_match(NULL, &sa));
	assert_false(cidr_list_match(cl, NULL));

	/* an unset address matches nothing, even 0/0 */
	sa_init(&sa, AF_UNSPEC);
	assert_false(cidr_list_match(cl, &sa));

	mem_deref(cl);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_default),
		cmocka_unit_test(test_cidr_list),
		cmocka_unit_test(test_cidr_odd_prefixes),
		cmocka_unit_test(test_cidr_v4mapped),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_cidr_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
