/**
 * @file test_regmsg.c  REGISTER parsing on real libre sip_msg objects
 *
 * Every request is raw SIP text decoded by libre's sip_msg_decode(), the
 * same decoder baresip's SIP stack runs before our listener sees it.
 */

#include "unit.h"
#include "sipphone.h"
#include "sip/sip.h"


enum { DFLT_EXPIRES = 1800 };


/* What an HT802 (firmware 1.0.51.2) sends for port 1 */
static const char ht802_register[] =
	"REGISTER sip:192.168.1.10 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK1573853045;rport\r\n"
	"From: <sip:100@192.168.1.10>;tag=1178283622\r\n"
	"To: <sip:100@192.168.1.10>\r\n"
	"Call-ID: 1836287411-5060-1@BJC.BGI.B.BFA\r\n"
	"CSeq: 2036 REGISTER\r\n"
	"Contact: <sip:100@192.168.1.50:5060>;reg-id=1;"
	"+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000B82A1B2C3>\"\r\n"
	"X-Grandstream-PBX: true\r\n"
	"Max-Forwards: 70\r\n"
	"User-Agent: Grandstream HT802 1.0.51.2\r\n"
	"Supported: path\r\n"
	"Expires: 3600\r\n"
	"Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO,"
	" REFER, UPDATE, MESSAGE\r\n"
	"Content-Length: 0\r\n"
	"\r\n";


static int msg_decode_str(struct sip_msg **msgp, const char *str)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	err = mbuf_write_str(mb, str);
	if (!err) {
		mb->pos = 0;
		err = sip_msg_decode(msgp, mb);
	}

	/* the message keeps its own reference to mb */
	mem_deref(mb);

	return err;
}


/*
 * A REGISTER with fixed Via/Call-ID/CSeq; the test supplies To, From,
 * Contact and Expires lines (hdrs, each ending in CRLF)
 */
static struct sip_msg *msg_make(const char *hdrs)
{
	struct sip_msg *msg = NULL;
	char *str = NULL;

	assert_int_equal(0, re_sdprintf(&str,
		"REGISTER sip:10.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKabc\r\n"
		"Call-ID: 42@10.0.0.50\r\n"
		"CSeq: 1 REGISTER\r\n"
		"%s"
		"Content-Length: 0\r\n"
		"\r\n", hdrs));

	assert_int_equal(0, msg_decode_str(&msg, str));
	mem_deref(str);

	return msg;
}


/* 500 characters: with the rest, a Contact URI over 512 */
#define LONG_PARAM \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234567890123" \
	"0123456789012345678901234567890123456789012345678901234"


#define FROM_TO(user) \
	"From: <sip:" user "@10.0.0.1>;tag=1\r\n" \
	"To: <sip:" user "@10.0.0.1>\r\n"


static void parse_ok(struct reg_req *rr, struct sip_msg *msg)
{
	const char *reason = NULL;

	assert_int_equal(0, reg_parse(rr, msg, DFLT_EXPIRES, &reason));
	assert_null(reason);
}


static void parse_bad(const char *hdrs, const char *want)
{
	const char *reason = NULL;
	struct sip_msg *msg;
	struct reg_req rr;

	msg = msg_make(hdrs);

	assert_int_equal(EBADMSG, reg_parse(&rr, msg, DFLT_EXPIRES,
					    &reason));
	assert_non_null(reason);
	assert_string_equal(want, reason);

	/* nothing of the bad request is handed out */
	assert_false(pl_isset(&rr.line));
	assert_false(pl_isset(&rr.contact));

	mem_deref(msg);
}


static void test_regmsg_ht802(void **state)
{
	struct sip_msg *msg = NULL;
	struct reg_req rr;
	(void)state;

	assert_int_equal(0, msg_decode_str(&msg, ht802_register));
	parse_ok(&rr, msg);

	assert_int_equal(0, pl_strcmp(&rr.line, "100"));
	assert_false(rr.star);
	assert_int_equal(0, pl_strcmp(&rr.contact,
				      "sip:100@192.168.1.50:5060"));
	assert_int_equal(3600, rr.expires);
	assert_int_equal(0, pl_strcmp(&rr.user_agent,
				      "Grandstream HT802 1.0.51.2"));

	mem_deref(msg);
}


static void test_regmsg_expires(void **state)
{
	struct sip_msg *msg;
	struct reg_req rr;
	(void)state;

	/* the Contact's expires parameter wins over the header */
	msg = msg_make(FROM_TO("100")
		       "Contact: <sip:100@10.0.0.50>;expires=120\r\n"
		       "Expires: 3600\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(120, rr.expires);
	mem_deref(msg);

	/* a URI parameter inside <> is not the Contact's expiry */
	msg = msg_make(FROM_TO("100")
		       "Contact: <sip:100@10.0.0.50;expires=5>\r\n"
		       "Expires: 300\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(300, rr.expires);
	assert_int_equal(0, pl_strcmp(&rr.contact,
				      "sip:100@10.0.0.50;expires=5"));
	mem_deref(msg);

	/* without <>, parameters belong to the header (RFC 3261 20.10) */
	msg = msg_make(FROM_TO("100")
		       "Contact: sip:100@10.0.0.50:5062;expires=90\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(90, rr.expires);
	assert_int_equal(0, pl_strcmp(&rr.contact, "sip:100@10.0.0.50:5062"));
	mem_deref(msg);

	/* neither: the default */
	msg = msg_make(FROM_TO("100")
		       "Contact: <sip:100@10.0.0.50>\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(DFLT_EXPIRES, rr.expires);
	assert_int_equal(0, rr.user_agent.l);
	mem_deref(msg);

	/* unregister of one contact */
	msg = msg_make(FROM_TO("100")
		       "Contact: <sip:100@10.0.0.50>\r\n"
		       "Expires: 0\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(0, rr.expires);
	assert_false(rr.star);
	mem_deref(msg);

	/* 2^31 is the largest accepted */
	msg = msg_make(FROM_TO("100")
		       "Contact: <sip:100@10.0.0.50>;expires=2147483648\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(2147483648u, rr.expires);
	mem_deref(msg);
}


static void test_regmsg_expires_bad(void **state)
{
	(void)state;

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires: soon\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires: 60s\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires: -1\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires: 2147483649\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires: 99999999999999999999\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "Expires:\r\n", "bad Expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>;expires=abc\r\n",
		  "bad Contact expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>;expires\r\n",
		  "bad Contact expires");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>;expires=4294967296\r\n",
		  "bad Contact expires");
}


static void test_regmsg_star(void **state)
{
	struct sip_msg *msg;
	struct reg_req rr;
	(void)state;

	msg = msg_make(FROM_TO("101")
		       "Contact: *\r\n"
		       "Expires: 0\r\n");
	parse_ok(&rr, msg);
	assert_true(rr.star);
	assert_int_equal(0, rr.expires);
	assert_false(pl_isset(&rr.contact));
	assert_int_equal(0, pl_strcmp(&rr.line, "101"));
	mem_deref(msg);

	parse_bad(FROM_TO("101")
		  "Contact: *\r\n"
		  "Expires: 60\r\n", "Contact: * needs Expires: 0");

	parse_bad(FROM_TO("101")
		  "Contact: *\r\n", "Contact: * needs Expires: 0");

	parse_bad(FROM_TO("101")
		  "Contact: *\r\n"
		  "Contact: <sip:101@10.0.0.50>\r\n"
		  "Expires: 0\r\n", "one Contact per REGISTER");
}


static void test_regmsg_query(void **state)
{
	struct sip_msg *msg;
	struct reg_req rr;
	(void)state;

	/* no Contact: the client asks what is bound */
	msg = msg_make(FROM_TO("100"));
	parse_ok(&rr, msg);
	assert_false(rr.star);
	assert_false(pl_isset(&rr.contact));
	assert_int_equal(0, pl_strcmp(&rr.line, "100"));
	mem_deref(msg);
}


static void test_regmsg_contacts(void **state)
{
	struct sip_msg *msg;
	struct reg_req rr;
	(void)state;

	/* two in one header: libre splits them */
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>, <sip:100@10.0.0.51>\r\n",
		  "one Contact per REGISTER");

	/* two headers, one in compact form */
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50>\r\n"
		  "m: <sip:100@10.0.0.51>\r\n",
		  "one Contact per REGISTER");

	/* a comma inside a quoted display name is no separator */
	msg = msg_make(FROM_TO("100")
		       "Contact: \"Port 1, kitchen\" <sip:100@10.0.0.50>\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(0, pl_strcmp(&rr.contact, "sip:100@10.0.0.50"));
	mem_deref(msg);

	/* IPv6 host, sips, transport parameter */
	msg = msg_make(FROM_TO("100") "Contact: "
		       "<sips:100@[2001:db8::5]:5061;transport=tls>\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(0, pl_strcmp(&rr.contact,
		"sips:100@[2001:db8::5]:5061;transport=tls"));
	mem_deref(msg);

	parse_bad(FROM_TO("100")
		  "Contact: <tel:+4930123>\r\n", "Contact is not a sip: URI");

	parse_bad(FROM_TO("100")
		  "Contact: <urn:uuid:0123>\r\n", "Contact is not a sip: URI");

	/* libre's URI decoder refuses "http://...": no host after ':' */
	parse_bad(FROM_TO("100")
		  "Contact: <http://10.0.0.50/>\r\n", "bad Contact");

	parse_bad(FROM_TO("100")
		  "Contact: garbage\r\n", "bad Contact");

	parse_bad(FROM_TO("100")
		  "Contact:\r\n", "bad Contact");

	/* libre's URI decoder would read "5060" as the host here */
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@:5060>\r\n", "Contact has no valid host");

	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@bad!host>\r\n",
		  "Contact has no valid host");

	/* kept as sent and shown: printable ASCII only, a sane length */
	parse_bad(FROM_TO("100")
		  "Contact: <sip:1\xff\xfe@10.0.0.50>\r\n",
		  "Contact is not printable ASCII");
	parse_bad(FROM_TO("100")
		  "Contact: <sip:caf\xc3\xa9@10.0.0.50>\r\n",
		  "Contact is not printable ASCII");
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50;x=\x01>\r\n",
		  "Contact is not printable ASCII");
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50;x=a b>\r\n",
		  "Contact is not printable ASCII");
	parse_bad(FROM_TO("100")
		  "Contact: <sip:100@10.0.0.50;x=" LONG_PARAM ">\r\n",
		  "Contact too long");

	/* a display name is not kept: any bytes there are no matter */
	msg = msg_make(FROM_TO("100")
		       "Contact: \"\xff\xfe\" <sip:100@10.0.0.50>\r\n");
	parse_ok(&rr, msg);
	assert_int_equal(0, pl_strcmp(&rr.contact, "sip:100@10.0.0.50"));
	mem_deref(msg);
}


static void test_regmsg_to_from(void **state)
{
	struct sip_msg *msg = NULL;
	(void)state;

	parse_bad("From: <sip:100@10.0.0.1>;tag=1\r\n"
		  "Contact: <sip:100@10.0.0.50>\r\n", "missing To");

	parse_bad("To: <sip:100@10.0.0.1>\r\n"
		  "Contact: <sip:100@10.0.0.50>\r\n", "missing From");

	/* a To without a user part names no line */
	parse_bad("From: <sip:10.0.0.1>;tag=1\r\n"
		  "To: <sip:10.0.0.1>\r\n"
		  "Contact: <sip:10.0.0.50>\r\n", "bad line id in To");

	/* garbage To: libre refuses the whole message, so baresip's stack
	 * drops it before any listener sees it (no reply at all) */
	assert_int_not_equal(0, msg_decode_str(&msg,
		"REGISTER sip:10.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKabc\r\n"
		"Call-ID: 42@10.0.0.50\r\n"
		"CSeq: 1 REGISTER\r\n"
		"From: <sip:100@10.0.0.1>;tag=1\r\n"
		"To: garbage\r\n"
		"Content-Length: 0\r\n"
		"\r\n"));
	assert_null(msg);
}


static void test_regmsg_headers(void **state)
{
	(void)state;

	parse_bad("From: <sip:100@10.0.0.1>;tag=1\r\n"
		  "To: <sip:100@10.0.0.1>\r\n"
		  "CSeq: 1 INVITE\r\n"
		  "Contact: <sip:100@10.0.0.50>\r\n", "bad CSeq");
}


static void test_regmsg_line_ids(void **state)
{
	static const char *goodv[] = {
		"100", "101", "a.b_c-d", "+4930123", "*47", "x#1",
		"12345678901234567890123456789012",
	};
	static const char *badv[] = {
		"123456789012345678901234567890123",
		"1%2300", "a$b", "a!b", "a'b", "a~b",
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(goodv) / sizeof(goodv[0]); i++) {
		struct sip_msg *msg;
		struct reg_req rr;
		char *hdrs;

		assert_int_equal(0, re_sdprintf(&hdrs,
			"From: <sip:%s@10.0.0.1>;tag=1\r\n"
			"To: <sip:%s@10.0.0.1>\r\n"
			"Contact: <sip:%s@10.0.0.50>\r\n",
			goodv[i], goodv[i], goodv[i]));

		msg = msg_make(hdrs);
		parse_ok(&rr, msg);
		assert_int_equal(0, pl_strcmp(&rr.line, goodv[i]));

		mem_deref(msg);
		mem_deref(hdrs);
	}

	for (i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		char *hdrs;

		assert_int_equal(0, re_sdprintf(&hdrs,
			"From: <sip:%s@10.0.0.1>;tag=1\r\n"
			"To: <sip:%s@10.0.0.1>\r\n"
			"Contact: <sip:100@10.0.0.50>\r\n",
			badv[i], badv[i]));

		parse_bad(hdrs, "bad line id in To");
		mem_deref(hdrs);
	}
}


static void test_regmsg_args(void **state)
{
	struct sip_msg *msg;
	struct reg_req rr;
	(void)state;

	msg = msg_make(FROM_TO("100"));

	assert_int_equal(EINVAL, reg_parse(NULL, msg, 60, NULL));
	assert_int_equal(EINVAL, reg_parse(&rr, NULL, 60, NULL));

	/* reasonp is optional */
	mem_deref(msg);
	msg = msg_make(FROM_TO("100") "Expires: x\r\n");
	assert_int_equal(EBADMSG, reg_parse(&rr, msg, 60, NULL));

	mem_deref(msg);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regmsg_ht802),
		cmocka_unit_test(test_regmsg_expires),
		cmocka_unit_test(test_regmsg_expires_bad),
		cmocka_unit_test(test_regmsg_star),
		cmocka_unit_test(test_regmsg_query),
		cmocka_unit_test(test_regmsg_contacts),
		cmocka_unit_test(test_regmsg_to_from),
		cmocka_unit_test(test_regmsg_headers),
		cmocka_unit_test(test_regmsg_line_ids),
		cmocka_unit_test(test_regmsg_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
