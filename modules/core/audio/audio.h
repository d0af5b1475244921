/**
 * @file audio.h  The audio contract: what httpctl, wsaudio and the hub
 *                must agree on, said once
 *
 * The name of a call's audio device (httpctl prints it when the call is
 * made, wsaudio parses it when baresip opens the device), the phone's
 * audio format, and the formats a WebSocket client may ask for.
 *
 * Part of sipphone.h, which includes libre, jansson and bsapi.h first:
 * include that.
 *
 * Threads: any; nothing here keeps state.
 */

#ifndef SP_AUDIO_H
#define SP_AUDIO_H

/*
 * The phone's audio: G.711 as the HT802 sends it, 8 kHz mono in 20 ms
 * frames. A call's source and player take nothing else, so the WebSocket
 * clients get it as it is, with no resampling.
 */

enum {
	AUDIO_SRATE = 8000,    /* samples per second                   */
	AUDIO_CH = 1,          /* channels                             */
	AUDIO_PTIME = 20,      /* ms per frame                         */
	AUDIO_SAMPC = AUDIO_SRATE * AUDIO_CH * AUDIO_PTIME / 1000,
			       /* samples per frame: 160               */
	AUDIO_PCMU_SIZE = AUDIO_SAMPC,      /* a PCMU frame: 160 bytes */
	AUDIO_L16_SIZE = 2 * AUDIO_SAMPC,   /* an L16 frame: 320 bytes */
};


/*
 * A call's audio device (audio.c): "<line>/<call id>". wsaudio bridges
 * that device to the line's clients; any other name is no call's.
 */

int calldev_print(char **devp, const char *line, const char *callid);
int calldev_parse(const char *dev, struct pl *line, struct pl *callid);


/*
 * WebSocket audio formats (audio.c): ?audio= of /api/v1/ws and
 * wsaudio_format
 */

enum ws_audio {
	WS_AUDIO_NONE = 0,     /* events and commands only             */
	WS_AUDIO_PCMU,         /* AUDIO_PCMU_SIZE bytes per frame      */
	WS_AUDIO_L16,          /* AUDIO_L16_SIZE bytes, little-endian  */

	WS_AUDIO_DEFAULT = WS_AUDIO_PCMU,  /* without wsaudio_format   */
};

const char *ws_audio_name(enum ws_audio fmt);
int ws_audio_decode(enum ws_audio *fmtp, const struct pl *name);

#endif
