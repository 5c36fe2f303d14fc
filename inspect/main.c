/*
 * inspect: see, query and wait for the events of the pipeline (placeholder while the modules
 * come in).
 */
#include <stdio.h>

int
main(void)
{
	return 0;
}
