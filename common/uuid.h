/*
 * uuid: random (version 4) UUIDs from getrandom(2), lower-case 8-4-4-4-12, for the collector's
 * network user id and enrich's event_id. Random bytes are drawn in blocks so that the hot path
 * does not make a system call per UUID.
 */
#ifndef FURROW_UUID_H
#define FURROW_UUID_H

#include <stddef.h>

#define UUID_STR_LEN 36

/* Write a new v4 UUID and a NUL into out (UUID_STR_LEN + 1 bytes). Returns 0 or -1. */
int uuid_v4(char out[UUID_STR_LEN + 1]);
/* 1 if s[0..len) is a UUID in 8-4-4-4-12 hex form (either case), else 0. */
int uuid_is_valid(const char *s, size_t len);

#endif
