/* xmlcheck.h - a small XML well-formedness checker for the tests: enough to
 * catch what a chart writer gets wrong (unbalanced or mismatched tags,
 * unquoted attributes, bare &, < or > in text, text outside the root).
 * xml_well_formed(text) returns 1 or 0; xml_error then says why.
 */
#ifndef RELUNET_TEST_XMLCHECK_H
#define RELUNET_TEST_XMLCHECK_H

#include <string.h>

static const char *xml_error;

/* XML's white space; \r too, for files written in text mode on Windows. */
static int xml_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static int xml_name(const char **s)
{
    const char *start = *s;
    while (**s && (strchr("-_:.", **s) || (**s >= 'a' && **s <= 'z') || (**s >= 'A' && **s <= 'Z') ||
                   (**s >= '0' && **s <= '9')))
        (*s)++;
    return (int)(*s - start);
}

/* An entity reference at s ('&'), advancing past it; 0 when it is not one. */
static int xml_entity(const char **s)
{
    static const char *const named[5] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    int i;
    for (i = 0; i < 5; i++)
        if (strncmp(*s, named[i], strlen(named[i])) == 0) {
            *s += strlen(named[i]);
            return 1;
        }
    if ((*s)[1] == '#') {
        const char *p = *s + 2;
        if (*p == 'x') p++;
        while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')) p++;
        if (*p == ';' && p > *s + 2) {
            *s = p + 1;
            return 1;
        }
    }
    return 0;
}

/* 1 when text is one well-formed element (after an optional <?xml ...?>), with
   balanced tags, quoted attributes, and &, <, > escaped in text. */
static int xml_well_formed(const char *s)
{
    const char *stack[64];
    int lengths[64], depth = 0, roots = 0;
    xml_error = "";
    if (strncmp(s, "<?xml", 5) == 0) {
        s = strstr(s, "?>");
        if (!s) return xml_error = "unterminated <?xml", 0;
        s += 2;
    }
    while (*s) {
        if (*s == '<' && s[1] == '/') {
            const char *name = s + 2;
            int n;
            s += 2;
            n = xml_name(&s);
            if (depth == 0 || n != lengths[depth - 1] || strncmp(name, stack[depth - 1], (size_t)n) != 0)
                return xml_error = "closing tag does not match", 0;
            if (*s != '>') return xml_error = "bad closing tag", 0;
            s++;
            depth--;
        } else if (*s == '<') {
            const char *name = ++s;
            int n = xml_name(&s);
            if (n == 0) return xml_error = "tag without a name", 0;
            if (depth == 0 && ++roots > 1) return xml_error = "more than one root", 0;
            for (;;) {
                while (xml_space(*s)) s++;
                if (s[0] == '/' && s[1] == '>') { s += 2; break; }
                if (*s == '>') {
                    if (depth == 64) return xml_error = "too deep", 0;
                    stack[depth] = name;
                    lengths[depth++] = n;
                    s++;
                    break;
                }
                if (xml_name(&s) == 0 || *s++ != '=' || *s++ != '"') return xml_error = "bad attribute", 0;
                while (*s != '"') {
                    if (*s == '\0' || *s == '<') return xml_error = "bad attribute value", 0;
                    if (*s == '&' && !xml_entity(&s)) return xml_error = "bare & in attribute", 0;
                    else if (*s != '&') s++;
                }
                s++;
            }
        } else if (*s == '&') {
            if (!xml_entity(&s)) return xml_error = "bare & in text", 0;
        } else {
            if (*s == '>') return xml_error = "unescaped > in text", 0;
            if (depth == 0 && !xml_space(*s)) return xml_error = "text outside the root", 0;
            s++;
        }
    }
    if (depth != 0) return xml_error = "unclosed element", 0;
    return roots == 1 ? 1 : (xml_error = "no root", 0);
}

#endif /* RELUNET_TEST_XMLCHECK_H */
