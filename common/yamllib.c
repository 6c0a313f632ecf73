/* libyaml loaded on first use (yamllib.h says why). */
#include <sys/types.h>

#include <stddef.h>

#include "pidbox.h"
#include "yamllib.h"

#define LIBYAML	"libyaml-0.so.2"

const struct yaml_lib *
yaml_lib(char *err, size_t errlen)
{
	static struct yaml_lib	 y;
	static int		 state;	/* 0 not tried, 1 loaded, -1 failed */
	static const char	*missing;
	static const struct dl_sym syms[] = {
		{ "yaml_parser_initialize", &y.parser_initialize },
		{ "yaml_parser_set_input_string", &y.parser_set_input_string },
		{ "yaml_parser_parse", &y.parser_parse },
		{ "yaml_parser_delete", &y.parser_delete },
		{ "yaml_event_delete", &y.event_delete },
		{ "yaml_emitter_initialize", &y.emitter_initialize },
		{ "yaml_emitter_set_output_file", &y.emitter_set_output_file },
		{ "yaml_emitter_set_unicode", &y.emitter_set_unicode },
		{ "yaml_emitter_set_width", &y.emitter_set_width },
		{ "yaml_emitter_emit", &y.emitter_emit },
		{ "yaml_emitter_flush", &y.emitter_flush },
		{ "yaml_emitter_delete", &y.emitter_delete },
		{ "yaml_stream_start_event_initialize", &y.stream_start },
		{ "yaml_stream_end_event_initialize", &y.stream_end },
		{ "yaml_document_start_event_initialize", &y.document_start },
		{ "yaml_document_end_event_initialize", &y.document_end },
		{ "yaml_mapping_start_event_initialize", &y.mapping_start },
		{ "yaml_mapping_end_event_initialize", &y.mapping_end },
		{ "yaml_sequence_start_event_initialize", &y.sequence_start },
		{ "yaml_sequence_end_event_initialize", &y.sequence_end },
		{ "yaml_scalar_event_initialize", &y.scalar },
	};

	if (state == 0) {
		state = -1;
		if (dl_load(LIBYAML, syms, nitems(syms), &missing) != NULL)
			state = 1;
	}
	if (state == 1)
		return &y;
	if (missing != NULL)
		errf(err, errlen, "cannot load " LIBYAML ": no %s", missing);
	else
		errf(err, errlen, "cannot load " LIBYAML);
	return NULL;
}
