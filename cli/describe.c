/*
 * pidboxctl describe [-d node,...]: ask nodes which methods they offer,
 * with the argument schema and help of each.
 */
#include <sys/types.h>

#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

int
cmd_describe_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "timeout",	 required_argument,	NULL,	't' },
		{ "destination", required_argument,	NULL,	'd' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*cmd = cmd_find("describe");
	struct call		 call;
	int			 ch, rv;

	memset(&call, 0, sizeof(call));
	call.method = "describe";
	call.reply = 1;
	call.timeout = DEFAULT_TIMEOUT;
	while ((ch = getopt_long(argc, argv, GLOBAL_OPTSTRING "t:d:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		default:
			if (call_target_opt(&call, ch, optarg))
				break;
			if (!ctl_global_opt(ctl, ch, cmd))
				cmd_usage(cmd);
			break;
		}
	}
	if (optind != argc)
		cmd_usage(cmd);
	if ((call.arguments = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	ctl_setup(ctl);
	rv = mailbox_broadcast(ctl, &call);
	free_call(&call);
	return rv;
}
