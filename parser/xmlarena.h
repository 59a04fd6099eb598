/* A bump allocator for libxml2, scoped to one document.
 *
 * Between px_arena_begin() and px_arena_end() every libxml2 allocation made
 * by the calling thread comes from a per-thread arena: malloc is a pointer
 * bump, free does nothing, and px_arena_end() drops everything at once. A
 * parse, the walks over the tree and xmlFreeDoc then cost no malloc/free
 * (a quarter of a libxml2 HTML parse's time with glibc's malloc).
 *
 * Ownership: nothing allocated by libxml2 inside the window may be used
 * after px_arena_end(): the caller copies what it keeps (with libc malloc)
 * and frees the document (xmlFreeDoc) before ending the window. libxml2's
 * own state that outlives a document is made before the hooks go in
 * (xmlInitParser, the thread's global state) or cleared before they come
 * out (the thread's last error, xmlResetLastError); xmlarena.c lists what
 * was checked in libxml2 2.9.14.
 *
 * Threads: libxml2's hooks (xmlMemSetup) are process-wide. The first
 * thread to begin a window saves the hooks in place and installs the
 * arena's; the last to end one puts the saved hooks back. The arena's hooks
 * serve only a thread inside a window: other threads, and frees of memory
 * that is not the arena's, go to the saved hooks, so libxml2 may be used
 * from other threads meanwhile as long as nobody else calls xmlMemSetup.
 * Windows do not nest (a second begin in the same thread is a no-op, and
 * the matching end too).
 *
 * On allocation failure the hook returns NULL to libxml2, which reports it
 * as it would a failed malloc. Memory: the arena keeps up to
 * PX_ARENA_RETAIN bytes of chunks between documents; larger ones are
 * released at px_arena_end(). Under AddressSanitizer every byte not handed
 * out (and all of it after the window) is poisoned, so a pointer that
 * outlives its document is reported on first use. */
#ifndef PX_XMLARENA_H
#define PX_XMLARENA_H

#include <stddef.h>

#define PX_ARENA_CHUNK ((size_t)4 << 20)   /* first chunk; later ones double */
#define PX_ARENA_RETAIN ((size_t)32 << 20) /* chunk bytes kept between documents */

/* Opens the calling thread's window (calls xmlInitParser first). */
void px_arena_begin(void);

/* Closes it: clears the thread's libxml2 last error, releases the
 * document's memory at once, restores the hooks if no other thread is in a
 * window. */
void px_arena_end(void);

/* Frees a document parsed inside the calling thread's open window: all
 * of it is the arena's and goes at px_arena_end(), except its dictionary's
 * mutex (libc's), so only the dictionary is released; the tree walk of
 * xmlFreeDoc (3% of a parse) is skipped. Outside a window: xmlFreeDoc. */
struct _xmlDoc;
void px_arena_free_doc(struct _xmlDoc *doc);

/* Bytes handed out in the calling thread's current or last window, and
 * chunk bytes it holds: for tests and benchmarks. */
void px_arena_stats(size_t *used, size_t *held);

#endif
