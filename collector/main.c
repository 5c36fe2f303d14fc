/* collector: placeholder until the HTTP server lands. */
#include <stdio.h>
#include "version.h"
int main(void) { printf("collector %s\n", FURROW_VERSION); return 0; }
