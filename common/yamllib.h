/*
 * libyaml, dlopen()ed by the first command that reads or writes YAML (a
 * -c file, --yaml, the daemon's configuration): linked, every pidboxctl
 * run would pay for loading and relocating it. The pointers keep the
 * library's own prototypes. Only yconf.c and cli/output.c include this.
 */
#ifndef PIDBOX_YAMLLIB_H
#define PIDBOX_YAMLLIB_H

#include <yaml.h>

struct yaml_lib {
	__typeof__(yaml_parser_initialize)	*parser_initialize;
	__typeof__(yaml_parser_set_input_string) *parser_set_input_string;
	__typeof__(yaml_parser_parse)		*parser_parse;
	__typeof__(yaml_parser_delete)		*parser_delete;
	__typeof__(yaml_event_delete)		*event_delete;
	__typeof__(yaml_emitter_initialize)	*emitter_initialize;
	__typeof__(yaml_emitter_set_output_file) *emitter_set_output_file;
	__typeof__(yaml_emitter_set_unicode)	*emitter_set_unicode;
	__typeof__(yaml_emitter_set_width)	*emitter_set_width;
	__typeof__(yaml_emitter_emit)		*emitter_emit;
	__typeof__(yaml_emitter_flush)		*emitter_flush;
	__typeof__(yaml_emitter_delete)		*emitter_delete;
	__typeof__(yaml_stream_start_event_initialize) *stream_start;
	__typeof__(yaml_stream_end_event_initialize) *stream_end;
	__typeof__(yaml_document_start_event_initialize) *document_start;
	__typeof__(yaml_document_end_event_initialize) *document_end;
	__typeof__(yaml_mapping_start_event_initialize) *mapping_start;
	__typeof__(yaml_mapping_end_event_initialize) *mapping_end;
	__typeof__(yaml_sequence_start_event_initialize) *sequence_start;
	__typeof__(yaml_sequence_end_event_initialize) *sequence_end;
	__typeof__(yaml_scalar_event_initialize) *scalar;
};

/* The loaded library (kept until exit), or NULL with why in err. */
const struct yaml_lib	*yaml_lib(char *err, size_t errlen);

#endif
