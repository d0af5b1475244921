/**
 * @file wsaudio.h  wsaudio module: private interface
 *
 * Threads: the source and the player are paced by libre timers and run on
 * the main thread only.
 */

/* Source and player state; each begins with its base pointer, as
   baresip 1.0.0 requires */
struct ausrc_st {
	const struct ausrc *as;
	struct ausrc_prm prm;
	ausrc_read_h *rh;
	void *arg;
	struct tmr tmr;
	uint64_t next;         /* absolute deadline, tmr_jiffies() ms */
	int16_t *sampv;
	size_t sampc;
	char *device;
};

struct auplay_st {
	const struct auplay *ap;
	struct auplay_prm prm;
	auplay_write_h *wh;
	void *arg;
	struct tmr tmr;
	uint64_t next;
	int16_t *sampv;
	size_t sampc;
	char *device;
};

int wsaudio_src_alloc(struct ausrc_st **stp, const struct ausrc *as,
		      struct media_ctx **ctx, struct ausrc_prm *prm,
		      const char *device, ausrc_read_h *rh,
		      ausrc_error_h *errh, void *arg);
int wsaudio_play_alloc(struct auplay_st **stp, const struct auplay *ap,
		       struct auplay_prm *prm, const char *device,
		       auplay_write_h *wh, void *arg);
