/*
 * jnum: numbers as the JVM sees them. Snowplow's validator compares numbers as BigDecimals made
 * from Java's Double.toString, and Snowplow prints floats and doubles with Float.toString and
 * Double.toString; furrow needs the same decimal values and the same text.
 *
 * jnum_decimal gives the shortest decimal that reads back as a double (Java's Double.toString
 * digits) as an integer mantissa and a power of ten, without stdio in the common cases.
 */
#ifndef FURROW_JNUM_H
#define FURROW_JNUM_H

#include <stdint.h>

#define JNUM_BUFSZ 32

/* |d| (finite) as mant * 10^exp10 with the fewest significant digits that read back as |d|,
 * trailing zeros moved into exp10 (0 is 0 * 10^0). Returns 0, or -1 for NaN or infinity. */
int jnum_decimal(double d, uint64_t *mant, int *exp10);
/* Java's Double.toString / Float.toString: "2.0", "0.01", "1.0E-4", "1.2345678E7", "-0.0". */
void jnum_java_double(double d, char out[JNUM_BUFSZ]);
void jnum_java_float(float f, char out[JNUM_BUFSZ]);

#endif
