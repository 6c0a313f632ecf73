/*
 * Per-method access policy (MCollective actionpolicy style): ordered
 * rules of method globs and sender identities, first match wins. A
 * dangerous method is allowed only by a rule that names it exactly; a
 * wildcard never grants it, and neither does the default.
 */
#include <sys/types.h>

#include <string.h>

#include "pidboxd.h"

static int
is_glob(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

static int
rule_matches(const struct policy_rule *r, const char *method, int danger,
    const char *identity)
{
	size_t	i;
	int	m = 0;

	if (r->identities != NULL) {
		for (i = 0; i < r->nidentities && !m; i++)
			m = identity[0] != '\0' &&
			    (strcmp(r->identities[i], "*") == 0 ||
			    strcmp(r->identities[i], identity) == 0);
		if (!m)
			return 0;
	}
	if (r->methods == NULL)
		return !(danger && r->allow);
	for (i = 0; i < r->nmethods; i++) {
		if (is_glob(r->methods[i])) {
			if (danger && r->allow)
				continue;
			if (match_glob(method, r->methods[i]))
				return 1;
		} else if (strcmp(r->methods[i], method) == 0)
			return 1;
	}
	return 0;
}

int
policy_allows(const struct policy_conf *p, const char *method, int danger,
    const char *identity, const char **why)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (rule_matches(&p->rules[i], method, danger, identity)) {
			*why = "denied by policy rule";
			return p->rules[i].allow;
		}
	if (danger) {
		*why = "dangerous method not allowed by any policy rule";
		return 0;
	}
	*why = "denied by the default policy";
	return p->default_allow;
}
