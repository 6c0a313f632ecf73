/*
 * The method registry: one table of everything this node answers, built
 * once per node from the built-in rows (handlers.c) and the operator's
 * methods (conf->methods, run by exec.c). Each row carries its name,
 * help, flags, argument schema and function, so that node.c looks a
 * request's method up once, asks the policy with one "dangerous" bit,
 * checks the arguments the same way for every method and calls it.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

struct registry {
	struct method	*v;
	size_t		 n;
};

/*
 * Celery's and kombu's methods that stop or reshape a node: dangerous by
 * name whichever table offers them (an operator method of that name is
 * too), and for a node that does not offer them, so that a policy never
 * lets a wildcard reach them.
 */
static const char *const dangerous_names[] = {
	"autoscale", "pool_grow", "pool_restart", "pool_shrink", "revoke",
	"revoke_by_stamped_headers", "shutdown", "terminate",
};

static int
dangerous_name(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(dangerous_names); i++)
		if (strcmp(dangerous_names[i], name) == 0)
			return 1;
	return 0;
}

struct registry *
registry_new(const struct method *builtins, size_t nbuiltins,
    const struct pidboxd_conf *c, const char **errstr)
{
	struct registry			*r;
	struct method			*m;
	const struct method_conf	*mc;
	size_t				 i;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->v = calloc(nbuiltins + c->nmethods + 1,
	    sizeof(*r->v))) == NULL) {
		free(r);
		*errstr = "out of memory";
		return NULL;
	}
	for (i = 0; i < nbuiltins; i++) {
		r->v[r->n] = builtins[i];
		if (dangerous_name(builtins[i].name))
			r->v[r->n].flags |= M_DANGEROUS;
		r->n++;
	}
	for (i = 0; i < c->nmethods; i++) {
		mc = &c->methods[i];
		if (registry_lookup(r, mc->name) != NULL) {
			/* config.c refuses it with file:line:col */
			*errstr = "an operator method has a built-in's name";
			registry_free(r);
			return NULL;
		}
		m = &r->v[r->n++];
		m->name = mc->name;
		m->fn = exec_method;
		m->help = mc->help != NULL ? mc->help : "";
		m->flags = M_EXEC;
		if (mc->dangerous || dangerous_name(mc->name))
			m->flags |= M_DANGEROUS;
		m->args = mc->args;
		m->nargs = mc->nargs;
		m->conf = mc;
	}
	return r;
}

void
registry_free(struct registry *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r);
}

const struct method *
registry_lookup(const struct registry *r, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

int
registry_dangerous(const struct registry *r, const char *name)
{
	return registry_method_dangerous(registry_lookup(r, name), name);
}

int
registry_method_dangerous(const struct method *m, const char *name)
{
	if (m != NULL)
		return (m->flags & M_DANGEROUS) != 0;
	return dangerous_name(name);
}

/*
 * What describe says of each method, including whether it is dangerous
 * and whether the policy lets the asking identity call it, so that an
 * operator sees a refusal coming instead of meeting it.
 */
json_object *
registry_describe(const struct registry *r, const struct policy_conf *p,
    const char *identity)
{
	const struct method	*m;
	json_object		*methods, *o;
	const char		*why;
	size_t			 i;

	methods = json_object_new_object();
	for (i = 0; i < r->n; i++) {
		m = &r->v[i];
		o = json_object_new_object();
		json_object_object_add(o, "help",
		    json_object_new_string(m->help));
		json_object_object_add(o, "kind", json_object_new_string(
		    (m->flags & M_EXEC) ? "exec" : "builtin"));
		json_object_object_add(o, "args",
		    schema_describe(m->args, m->nargs));
		if (m->conf != NULL)
			json_object_object_add(o, "timeout",
			    schema_number((double)m->conf->timeout_ms /
			    1000.0));
		json_object_object_add(o, "dangerous", json_object_new_boolean(
		    (m->flags & M_DANGEROUS) != 0));
		json_object_object_add(o, "allowed", json_object_new_boolean(
		    policy_allows(p, m->name, (m->flags & M_DANGEROUS) != 0,
		    identity, &why)));
		json_object_object_add(methods, m->name, o);
	}
	return methods;
}
