/*
 * The furrow version, shared by every stage. It appears in --version output, in bad rows'
 * processor.version and in the collector name (enriched-event.md §9 caps it at 8 characters).
 */
#ifndef FURROW_VERSION_H
#define FURROW_VERSION_H

#ifndef FURROW_VERSION
#define FURROW_VERSION "0.1.0"
#endif

#endif
