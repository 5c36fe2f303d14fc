/*
 * schemadir: the default embedded registry folder (see schemadir.h).
 */
#include "schemadir.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
schemadir_is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *
schemadir_default(char *out, size_t outlen)
{
	/* installed; bin/ of the source tree; one folder deeper; build/<variant>/bin (make
	 * sanitize) */
	static const char *const rel[] = { "/../share/furrow/schemas", "/../schemas",
	    "/../../schemas", "/../../../schemas" };
	static const char *const abs[] = { "/usr/local/share/furrow/schemas",
	    "/usr/share/furrow/schemas" };
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(out, outlen, "%s%s", exe, rel[i]);
			if (schemadir_is_dir(out))
				return out;
		}
	}
	for (i = 0; i < sizeof(abs) / sizeof(abs[0]); i++)
		if (schemadir_is_dir(abs[i]))
			return abs[i];
	return NULL;
}
