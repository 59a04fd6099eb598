/* A bump allocator for libxml2, scoped to one document (xmlarena.h).
 *
 * What in libxml2 2.9.14 outlives a document, and why none of it can end
 * up in the arena:
 *
 *   - Parser globals (the encoding handler table, the dictionary's mutex
 *     and random seed, the HTML auto-close tables, the default SAX
 *     handlers, the input callbacks): made by xmlInitParser, which
 *     px_arena_begin calls before it installs the hooks. Mutexes
 *     (threads.c) use libc malloc directly in any case.
 *   - A thread's global state (error handlers, last error, defaults):
 *     created on the thread's first use of libxml2; px_arena_begin touches
 *     it (xmlResetLastError) before the hooks go in.
 *   - The thread's last error: __xmlRaiseError copies every parse error,
 *     reported or not (HTML_PARSE_NOERROR only silences it), into the
 *     per-thread xmlLastError, strings included. Left in place, the next
 *     error after the window would free() arena strings. px_arena_end
 *     clears it (xmlResetLastError) while the arena's free is still in.
 *   - Encoding handlers: the built-in ones are in the table above; an
 *     iconv-backed one (a page in a charset libxml2 does not know itself)
 *     is allocated per document and closed with the parser context inside
 *     htmlReadMemory, iconv_close included (iconv's own memory is libc's).
 *   - The parser context, its input buffers and its dictionary belong to
 *     the document: htmlReadMemory frees the context; the dictionary is
 *     referenced by the document, and its mutex is libc's (threads.c), so
 *     px_arena_free_doc releases the dictionary and leaves the rest of the
 *     tree to the arena. A libc allocation anywhere else in a tree would
 *     show as a leak in the ASan runs (test_xmlarena, parser_aeb_pages).
 *
 * Nothing else is cached across documents by the HTML parser, the tree
 * API px_html and px_meta_html use (xmlGetProp, xmlNodeGetContent,
 * xmlBuildURI, all freed or copied with libc strdup before the window
 * ends), or the error path. tests/unit/test_xmlarena.c checks this under
 * ASan: pages with errors and foreign charsets, interleaved with XML
 * parses that raise errors before and after, libxml2 objects made before a
 * window and freed inside it or after it, hooks of the caller's own put
 * back, and several threads at once. */
#include "xmlarena.h"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/tree.h>
#include <libxml/xmlmemory.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define REDZONE 32 /* bytes between two blocks, poisoned: overflows are reported */
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

#define ALIGN 16 /* what glibc's malloc gives: enough for any libxml2 type */
#define HDR 8    /* the block's size, just before it */
#define MAX_CHUNK ((size_t)64 << 20)

typedef struct chunk {
    struct chunk *next;
    size_t size; /* bytes of data[] */
    size_t pos;  /* offset in data of the next block (ALIGN-aligned) */
    size_t last; /* offset of the last block handed out, 0 if none */
    _Alignas(ALIGN) unsigned char data[];
} chunk;

typedef struct arena {
    int active; /* in a window */
    int depth;  /* begins nested inside the window */
    chunk *first, *cur;
    size_t used, held;
} arena;

static __thread arena tl;

/* A thread's chunks go back to libc when it exits. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void release_chunks(void *unused)
{
    (void)unused;
    while (tl.first != NULL) {
        chunk *c = tl.first;
        tl.first = c->next;
        UNPOISON(c->data, c->size);
        free(c);
    }
    tl.cur = NULL;
    tl.held = 0;
}

static void make_exit_key(void)
{
    if (pthread_key_create(&exit_key, release_chunks) != 0) {
        exit_key = (pthread_key_t)-1;
    }
}

static pthread_mutex_t hooks_mu = PTHREAD_MUTEX_INITIALIZER;
static int n_windows; /* threads inside a window */
static struct {
    xmlFreeFunc free;
    xmlMallocFunc malloc, malloc_atomic;
    xmlReallocFunc realloc;
    xmlStrdupFunc strdup;
} saved;

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static size_t *size_of(void *p)
{
    return (size_t *)((unsigned char *)p - HDR);
}

/* The chunk of the calling thread's arena holding p, or NULL. */
static chunk *owner(const arena *a, const void *p)
{
    const unsigned char *b = p;
    for (chunk *c = a->first; c != NULL; c = c->next) {
        if (b > c->data && b < c->data + c->size) {
            return c;
        }
        if (c == a->cur) {
            break;
        }
    }
    return NULL;
}

/* A new chunk of at least need bytes after the current one (or first). */
static chunk *grow(arena *a, size_t need)
{
    size_t size = a->cur != NULL ? a->cur->size * 2 : PX_ARENA_CHUNK;
    chunk *c;
    if (size > MAX_CHUNK) {
        size = MAX_CHUNK;
    }
    if (size < need) {
        size = need;
    }
    c = malloc(sizeof(*c) + size);
    if (c == NULL) {
        return NULL;
    }
    c->size = size;
    c->pos = ALIGN;
    c->last = 0;
    POISON(c->data, size);
    if (a->first == NULL) {
        /* the destructor runs only for a non-NULL value */
        pthread_once(&exit_once, make_exit_key);
        if (exit_key != (pthread_key_t)-1) {
            pthread_setspecific(exit_key, a);
        }
    }
    if (a->cur == NULL) {
        c->next = a->first;
        a->first = c;
    } else {
        c->next = a->cur->next;
        a->cur->next = c;
    }
    a->held += size;
    return c;
}

static void *arena_alloc(arena *a, size_t n)
{
    /* room for the block, the next block's size word and the red zone */
    size_t need = round_up(n + HDR + REDZONE);
    chunk *c = a->cur;
    unsigned char *p;
    if (n > SIZE_MAX / 2) {
        return NULL;
    }
    while (c == NULL || c->pos + need > c->size) {
        if (c != NULL && c->next != NULL && c->next->pos + need <= c->next->size) {
            c = c->next; /* an empty chunk kept from an earlier document */
        } else {
            c = grow(a, need + ALIGN);
            if (c == NULL) {
                return NULL;
            }
        }
        a->cur = c;
    }
    p = c->data + c->pos;
    UNPOISON(p - HDR, HDR + n);
    *size_of(p) = n;
    c->last = c->pos;
    c->pos += need;
    a->used += n;
    return p;
}

static void *hook_malloc(size_t n)
{
    return tl.active ? arena_alloc(&tl, n) : saved.malloc(n);
}

static void *hook_malloc_atomic(size_t n)
{
    return tl.active ? arena_alloc(&tl, n) : saved.malloc_atomic(n);
}

static void hook_free(void *p)
{
    chunk *c;
    if (p == NULL) {
        return;
    }
    c = tl.active ? owner(&tl, p) : NULL;
    if (c == NULL) {
        saved.free(p); /* made before the window, or by another thread */
        return;
    }
    POISON(p, *size_of(p));
    if (c->last != 0 && c->data + c->last == p) {
        /* the block just handed out (a scratch buffer): take it back */
        c->pos = c->last;
        c->last = 0;
    }
}

static void *hook_realloc(void *p, size_t n)
{
    chunk *c;
    void *q;
    size_t old;
    if (!tl.active) {
        return saved.realloc(p, n);
    }
    if (p == NULL) {
        return arena_alloc(&tl, n);
    }
    c = owner(&tl, p);
    if (c == NULL) {
        return saved.realloc(p, n);
    }
    old = *size_of(p);
    if (n <= old) {
        POISON((unsigned char *)p + n, old - n);
        *size_of(p) = n;
        return p;
    }
    if (c->last != 0 && c->data + c->last == p && n <= SIZE_MAX / 2 &&
        c->last + round_up(n + HDR + REDZONE) <= c->size) {
        /* the last block grows in place: text nodes and buffers that are
         * appended to double this way without a copy */
        UNPOISON(p, n);
        *size_of(p) = n;
        c->pos = c->last + round_up(n + HDR + REDZONE);
        tl.used += n - old;
        return p;
    }
    q = arena_alloc(&tl, n);
    if (q != NULL) {
        memcpy(q, p, old);
        hook_free(p);
    }
    return q;
}

static char *hook_strdup(const char *s)
{
    size_t n;
    char *q;
    if (!tl.active) {
        return saved.strdup(s);
    }
    n = strlen(s) + 1;
    q = arena_alloc(&tl, n);
    if (q != NULL) {
        memcpy(q, s, n);
    }
    return q;
}

void px_arena_begin(void)
{
    if (tl.active) {
        tl.depth++;
        return;
    }
    xmlInitParser();
    /* frees an earlier error's strings with the hooks that made them, and
     * creates this thread's global state, both outside the arena */
    xmlResetLastError();
    pthread_mutex_lock(&hooks_mu);
    if (n_windows++ == 0) {
        xmlGcMemGet(&saved.free, &saved.malloc, &saved.malloc_atomic, &saved.realloc,
                    &saved.strdup);
        xmlGcMemSetup(hook_free, hook_malloc, hook_malloc_atomic, hook_realloc, hook_strdup);
    }
    pthread_mutex_unlock(&hooks_mu);
    tl.used = 0;
    tl.active = 1;
}

void px_arena_end(void)
{
    size_t kept = 0;
    chunk **link = &tl.first;

    if (!tl.active) {
        return;
    }
    if (tl.depth > 0) {
        tl.depth--;
        return;
    }
    /* the last error's strings are the arena's: drop them while free is
     * still a no-op for them */
    xmlResetLastError();
    tl.active = 0;
    pthread_mutex_lock(&hooks_mu);
    if (--n_windows == 0) {
        xmlGcMemSetup(saved.free, saved.malloc, saved.malloc_atomic, saved.realloc, saved.strdup);
    }
    pthread_mutex_unlock(&hooks_mu);
    /* everything at once; chunks beyond PX_ARENA_RETAIN go back to libc */
    while (*link != NULL) {
        chunk *c = *link;
        if (kept + c->size <= PX_ARENA_RETAIN) {
            kept += c->size;
            POISON(c->data, c->size);
            c->pos = ALIGN;
            c->last = 0;
            link = &c->next;
        } else {
            *link = c->next;
            tl.held -= c->size;
            UNPOISON(c->data, c->size);
            free(c);
        }
    }
    tl.cur = tl.first;
}

void px_arena_free_doc(struct _xmlDoc *doc)
{
    if (doc == NULL) {
        return;
    }
    if (!tl.active || tl.depth > 0) {
        xmlFreeDoc(doc);
        return;
    }
    /* the dictionary is reference-counted: the document holds the last
     * reference once htmlReadMemory has freed its parser context */
    if (doc->dict != NULL) {
        xmlDictFree(doc->dict);
    }
}

void px_arena_stats(size_t *used, size_t *held)
{
    *used = tl.used;
    *held = tl.held;
}
