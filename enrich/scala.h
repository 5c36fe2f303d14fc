/*
 * scala: the iteration orders of Scala 2.12's collections, which decide the key order of
 * the JSON upstream's webhook adapters print (enrich 6.10 is built with Scala 2.12.20).
 *
 * An adapter that goes through a Scala Map (query-string parameters, a form body, `obj.toMap`
 * on a JSON object) prints the keys in that Map's order: immutable.Map keeps insertion order up
 * to four entries (Map1..Map4) and becomes a HashMap (a hash trie) at the fifth, whose order
 * is the keys sorted by the 5-bit groups of improve(key.hashCode), lowest group first. Upstream's
 * own tests pin these orders (CallrailAdapterSpec, MailgunAdapterSpec, ...), so furrow
 * reproduces them: the same webhook gives the same ue_pr text, byte for byte.
 *
 * smap.h models one such immutable Map of strings on these orders.
 */
#ifndef FURROW_ENRICH_SCALA_H
#define FURROW_ENRICH_SCALA_H

#include <stddef.h>
#include <stdint.h>

/* java.lang.String.hashCode of UTF-8 text (over its UTF-16 code units). */
int32_t scala_string_hash(const char *s, size_t len);
/* scala.collection.immutable.HashMap's improve(hcode). */
uint32_t scala_improve(int32_t hcode);
/* Compare two improved hashes in HashTrieMap iteration order: <0, 0, >0. */
int scala_trie_cmp(uint32_t a, uint32_t b);
/* MurmurHash3.productHash of SchemaKey(vendor, name, format, SchemaVer.Full(m, r, a)): the
 * hashCode of iglu-core's case class. */
int32_t scala_schemakey_hash(const char *vendor, const char *name, const char *format,
    int model, int revision, int addition);
/* hashCode of Some(s) (s the String with hashCode h) and of None: Sendgrid keys its events by
 * Option[String]. */
int32_t scala_some_hash(int32_t h);
int32_t scala_none_hash(void);

/* Sort idx[0..n) (indices into some key table) into HashMap order, given each key's
 * hashCode; ties (equal hashes: a collision bucket) keep insertion order. */
void scala_hash_sort(size_t *idx, size_t n, const int32_t *hcode);

#endif
