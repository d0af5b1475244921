/**
 * @file test_url.c  The URLs a webhook can be sent to, and every refusal
 */

#include "unit.h"
#include "sipphone.h"
#include "webhook/webhook.h"


static void pl_is(const char *want, const struct pl *pl)
{
	if (pl_strcmp(pl, want))
		fail_msg("\"%r\" is not \"%s\"", pl, want);
}


/* The URL is accepted: its parts */
static void ok(const char *url, bool tls, const char *host, uint16_t port,
	       const char *hostport, const char *path)
{
	struct webhook_url u;
	const char *why = "not touched";

	if (webhook_url_decode(&u, url, &why))
		fail_msg("%s refused: %s", url, why);

	assert_null(why);
	assert_int_equal(tls, u.tls);
	pl_is(host, &u.host);
	assert_int_equal(port, u.port);
	pl_is(hostport, &u.hostport);
	pl_is(path, &u.path);
}


/* The URL is refused, and says why */
static void refused(const char *url, const char *reason)
{
	struct webhook_url u;
	const char *why = NULL;

	assert_int_equal(EINVAL, webhook_url_decode(&u, url, &why));
	if (str_cmp(why, reason))
		fail_msg("%s: \"%s\", not \"%s\"", url, why, reason);
}


static void names_addresses_and_default_ports(void **state)
{
	(void)state;

	ok("http://example.com", false, "example.com", 80, "example.com",
	   "");
	ok("https://example.com/", true, "example.com", 443, "example.com",
	   "/");
	ok("HTTPS://Bot.Example.COM/hooks", true, "Bot.Example.COM", 443,
	   "Bot.Example.COM", "/hooks");
	ok("Http://my_host-1.lan/x", false, "my_host-1.lan", 80,
	   "my_host-1.lan", "/x");
	ok("http://192.168.1.20/hook", false, "192.168.1.20", 80,
	   "192.168.1.20", "/hook");
	ok("http://localhost?x=1", false, "localhost", 80, "localhost",
	   "?x=1");
}


static void ports(void **state)
{
	(void)state;

	ok("http://h:1/", false, "h", 1, "h:1", "/");
	ok("https://h:8443/a?b", true, "h", 8443, "h:8443", "/a?b");
	ok("http://h:65535", false, "h", 65535, "h:65535", "");
	ok("http://h:08080/", false, "h", 8080, "h:08080", "/");

	refused("http://h:/", "the URL has an empty port");
	refused("http://h:0/", "the URL's port is not a number from 1 to"
		" 65535");
	refused("http://h:65536/", "the URL's port is not a number from 1"
		" to 65535");
	refused("http://h:123456/", "the URL's port is not a number from 1"
		" to 65535");
	refused("http://h:8o/", "the URL's port is not a number from 1 to"
		" 65535");
	refused("http://h:-1/", "the URL's port is not a number from 1 to"
		" 65535");
}


static void ipv6(void **state)
{
	(void)state;

	ok("http://[::1]/", false, "::1", 80, "[::1]", "/");
	ok("https://[2001:db8::7]:8443/h", true, "2001:db8::7", 8443,
	   "[2001:db8::7]:8443", "/h");
	ok("http://[fe80::1:2]", false, "fe80::1:2", 80, "[fe80::1:2]", "");

	refused("http://[::1/", "the URL's IPv6 address has no ']'");
	refused("http://[zz::1]/", "the URL's IPv6 address is not valid");
	refused("http://[192.0.2.1]/", "the URL's IPv6 address is not valid");
	/* libre reads an IPv4-mapped address as the IPv4 one: in brackets
	   it is refused like one (write http://192.0.2.1/) */
	refused("http://[::ffff:192.0.2.1]/", "the URL's IPv6 address is not"
		" valid");
	refused("http://[fe80::1%25eth0]/", "the URL's IPv6 address is not"
		" valid");
	refused("http://[]/", "the URL's IPv6 address is not valid");
	refused("http://[::1]x/", "the URL's host is not valid");
	refused("http://[::1]:/", "the URL has an empty port");
	refused("http://[::1]:0/", "the URL's port is not a number from 1"
		" to 65535");
}


static void fragments_are_not_sent(void **state)
{
	(void)state;

	ok("http://h/p?q=1#frag", false, "h", 80, "h", "/p?q=1");
	ok("http://h#frag/x", false, "h", 80, "h", "");
	ok("https://h:444#", true, "h", 444, "h:444", "");
}


static void schemes_hosts_and_characters(void **state)
{
	(void)state;

	refused("", "the URL is empty");
	refused("ftp://h/", "the URL must start with http:// or https://");
	refused("http:/h/", "the URL must start with http:// or https://");
	refused("//h/", "the URL must start with http:// or https://");
	refused("h/x", "the URL must start with http:// or https://");

	refused("http://", "the URL has no host");
	refused("http:///x", "the URL has no host");
	refused("http://:80/", "the URL has no host");
	refused("https://?x", "the URL has no host");

	refused("http://user:pw@h/", "credentials in the URL are not"
		" supported");
	refused("http://user@h", "credentials in the URL are not supported");
	ok("http://h/a@b", false, "h", 80, "h", "/a@b");

	refused("http://ho%st/", "the URL's host has a character a host name"
		" cannot have");
	refused("http://h\xc3\xa9/", "the URL's host has a character a host"
		" name cannot have");

	refused("http://a b/", "the URL has a space or a control character");
	refused("http://h/a b", "the URL has a space or a control character");
	refused("http://h/\t", "the URL has a space or a control character");
	refused("http://h/\x7f", "the URL has a space or a control character");
	refused("http://h/\r\nX: y", "the URL has a space or a control"
		" character");
}


static void length_limit(void **state)
{
	char url[2100];
	size_t len;
	(void)state;

	/* 2048 characters in all: taken; one more: not */
	len = (size_t)re_snprintf(url, sizeof(url), "http://h/");
	memset(url + len, 'a', 2048 - len);
	url[2048] = '\0';
	ok(url, false, "h", 80, "h", url + 8);

	url[2048] = 'a';
	url[2049] = '\0';
	refused(url, "the URL is longer than 2048 characters");
}


static void arguments(void **state)
{
	struct webhook_url u;
	(void)state;

	assert_int_equal(EINVAL, webhook_url_decode(NULL, "http://h", NULL));
	assert_int_equal(EINVAL, webhook_url_decode(&u, NULL, NULL));

	/* the reason is optional */
	assert_int_equal(0, webhook_url_decode(&u, "http://h", NULL));
	assert_int_equal(EINVAL, webhook_url_decode(&u, "gopher://h", NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_addresses_and_default_ports),
		cmocka_unit_test(ports),
		cmocka_unit_test(ipv6),
		cmocka_unit_test(fragments_are_not_sent),
		cmocka_unit_test(schemes_hosts_and_characters),
		cmocka_unit_test(length_limit),
		cmocka_unit_test(arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
