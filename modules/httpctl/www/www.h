/**
 * @file www.h  The operator console: the page at "/", compiled in
 *
 * Threads: main thread only.
 */

#ifndef HTTPCTL_WWW_H
#define HTTPCTL_WWW_H

struct httpctl;

/*
 * The files of www/, compiled in by modules/embed.cmake (www_assetv is
 * generated at build time), served by www.c
 */

struct www_asset {
	const char *path;      /* "/app.js"                              */
	const char *ctype;     /* Content-Type                           */
	const uint8_t *data;
	size_t len;
};

extern const struct www_asset www_assetv[];
extern const size_t www_assetc;

int  www_register(struct httpctl *ctl);

#endif
