/*
 * props: "name=value" property files (see props.h).
 */
#include "props.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
props_parse(const char *text, size_t len, props_cb cb, void *arg, char *err, size_t errlen)
{
	char name[PROPS_NAME_MAX + 1], *value = NULL;
	size_t off = 0;
	unsigned line = 0;
	int rc = 0;

	if ((value = malloc(PROPS_LINE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (off < len && rc == 0) {
		const char *p = text + off, *end, *eq, *nb, *ne;
		const char *nl = memchr(p, '\n', len - off);
		size_t n, i;

		line++;
		end = nl ? nl : text + len;
		off = (size_t)(end - text) + (nl ? 1 : 0);
		if (end > p && end[-1] == '\r')
			end--;
		if ((size_t)(end - p) > PROPS_LINE_MAX) {
			snprintf(err, errlen, "line %u: longer than %u bytes", line, PROPS_LINE_MAX);
			rc = -1;
			break;
		}
		for (nb = p; nb < end && is_blank(*nb); nb++)
			;
		if (nb == end || *nb == '#' || *nb == '!')
			continue;
		if ((eq = memchr(nb, '=', (size_t)(end - nb))) == NULL) {
			snprintf(err, errlen, "line %u: not name=value", line);
			rc = -1;
			break;
		}
		for (ne = eq; ne > nb && is_blank(ne[-1]); ne--)
			;
		n = (size_t)(ne - nb);
		if (n == 0 || n > PROPS_NAME_MAX) {
			snprintf(err, errlen, "line %u: %s property name", line, n ? "too long a" : "no");
			rc = -1;
			break;
		}
		for (i = 0; i < n; i++)
			if (!name_char_ok(nb[i])) {
				snprintf(err, errlen, "line %u: a property name is letters, digits, '.', "
				    "'_' and '-'", line);
				rc = -1;
				break;
			}
		if (rc)
			break;
		memcpy(name, nb, n);
		name[n] = '\0';
		for (p = eq + 1; p < end && is_blank(*p); p++)
			;
		n = (size_t)(end - p);
		if (memchr(p, '\0', n) != NULL) {
			snprintf(err, errlen, "line %u: property %s: a NUL byte in the value", line, name);
			rc = -1;
			break;
		}
		memcpy(value, p, n);
		value[n] = '\0';
		rc = cb(arg, line, name, value);
		explicit_bzero(value, n);
	}
	free(value);
	return rc;
}

int
props_load(const char *path, props_cb cb, void *arg, char *err, size_t errlen)
{
	char *text, sub[256];
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((text = malloc(PROPS_FILE_MAX + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while ((n = read(fd, text + len, PROPS_FILE_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			free(text);
			return -1;
		}
		len += (size_t)n;
		if (len > PROPS_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %u bytes", path, PROPS_FILE_MAX);
			close(fd);
			explicit_bzero(text, len);
			free(text);
			return -1;
		}
	}
	close(fd);
	rc = props_parse(text, len, cb, arg, sub, sizeof(sub));
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, sub);
	explicit_bzero(text, len);
	free(text);
	return rc;
}
