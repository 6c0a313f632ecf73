/*
 * JSON as Python writes it: json.dumps() with its defaults, so that what we
 * publish is byte for byte what kombu would publish, plus a bounded parser
 * and Python's repr() for the error strings kombu puts in replies.
 */
#include <sys/types.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

/* Nesting we accept when serializing trees built in C (parsed ones <= 32). */
#define DUMP_MAX_DEPTH	(4 * MAX_JSON_DEPTH)
/* Never produce more than this (MAX_ENVELOPE escaped 6 times, and some). */
#define DUMP_MAX_OUT	((size_t)8 * MAX_ENVELOPE)

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;		/* errno of the first failure, 0 if none */
};

/*
 * Code points from U+0080 up that Python's str.isprintable() calls
 * non-printable (categories Cc Cf Cs Co Cn Zl Zp and Zs), as sorted
 * inclusive ranges. Generated with Python 3.11.7 (Unicode 14.0.0):
 *	for c in range(0x80, 0x110000): not chr(c).isprintable()
 */
struct range {
	uint32_t lo, hi;
};
static const struct range nonprintable[] = {
	{ 0x0080, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x0378, 0x0379 },
	{ 0x0380, 0x0383 }, { 0x038b, 0x038b }, { 0x038d, 0x038d },
	{ 0x03a2, 0x03a2 }, { 0x0530, 0x0530 }, { 0x0557, 0x0558 },
	{ 0x058b, 0x058c }, { 0x0590, 0x0590 }, { 0x05c8, 0x05cf },
	{ 0x05eb, 0x05ee }, { 0x05f5, 0x0605 }, { 0x061c, 0x061c },
	{ 0x06dd, 0x06dd }, { 0x070e, 0x070f }, { 0x074b, 0x074c },
	{ 0x07b2, 0x07bf }, { 0x07fb, 0x07fc }, { 0x082e, 0x082f },
	{ 0x083f, 0x083f }, { 0x085c, 0x085d }, { 0x085f, 0x085f },
	{ 0x086b, 0x086f }, { 0x088f, 0x0897 }, { 0x08e2, 0x08e2 },
	{ 0x0984, 0x0984 }, { 0x098d, 0x098e }, { 0x0991, 0x0992 },
	{ 0x09a9, 0x09a9 }, { 0x09b1, 0x09b1 }, { 0x09b3, 0x09b5 },
	{ 0x09ba, 0x09bb }, { 0x09c5, 0x09c6 }, { 0x09c9, 0x09ca },
	{ 0x09cf, 0x09d6 }, { 0x09d8, 0x09db }, { 0x09de, 0x09de },
	{ 0x09e4, 0x09e5 }, { 0x09ff, 0x0a00 }, { 0x0a04, 0x0a04 },
	{ 0x0a0b, 0x0a0e }, { 0x0a11, 0x0a12 }, { 0x0a29, 0x0a29 },
	{ 0x0a31, 0x0a31 }, { 0x0a34, 0x0a34 }, { 0x0a37, 0x0a37 },
	{ 0x0a3a, 0x0a3b }, { 0x0a3d, 0x0a3d }, { 0x0a43, 0x0a46 },
	{ 0x0a49, 0x0a4a }, { 0x0a4e, 0x0a50 }, { 0x0a52, 0x0a58 },
	{ 0x0a5d, 0x0a5d }, { 0x0a5f, 0x0a65 }, { 0x0a77, 0x0a80 },
	{ 0x0a84, 0x0a84 }, { 0x0a8e, 0x0a8e }, { 0x0a92, 0x0a92 },
	{ 0x0aa9, 0x0aa9 }, { 0x0ab1, 0x0ab1 }, { 0x0ab4, 0x0ab4 },
	{ 0x0aba, 0x0abb }, { 0x0ac6, 0x0ac6 }, { 0x0aca, 0x0aca },
	{ 0x0ace, 0x0acf }, { 0x0ad1, 0x0adf }, { 0x0ae4, 0x0ae5 },
	{ 0x0af2, 0x0af8 }, { 0x0b00, 0x0b00 }, { 0x0b04, 0x0b04 },
	{ 0x0b0d, 0x0b0e }, { 0x0b11, 0x0b12 }, { 0x0b29, 0x0b29 },
	{ 0x0b31, 0x0b31 }, { 0x0b34, 0x0b34 }, { 0x0b3a, 0x0b3b },
	{ 0x0b45, 0x0b46 }, { 0x0b49, 0x0b4a }, { 0x0b4e, 0x0b54 },
	{ 0x0b58, 0x0b5b }, { 0x0b5e, 0x0b5e }, { 0x0b64, 0x0b65 },
	{ 0x0b78, 0x0b81 }, { 0x0b84, 0x0b84 }, { 0x0b8b, 0x0b8d },
	{ 0x0b91, 0x0b91 }, { 0x0b96, 0x0b98 }, { 0x0b9b, 0x0b9b },
	{ 0x0b9d, 0x0b9d }, { 0x0ba0, 0x0ba2 }, { 0x0ba5, 0x0ba7 },
	{ 0x0bab, 0x0bad }, { 0x0bba, 0x0bbd }, { 0x0bc3, 0x0bc5 },
	{ 0x0bc9, 0x0bc9 }, { 0x0bce, 0x0bcf }, { 0x0bd1, 0x0bd6 },
	{ 0x0bd8, 0x0be5 }, { 0x0bfb, 0x0bff }, { 0x0c0d, 0x0c0d },
	{ 0x0c11, 0x0c11 }, { 0x0c29, 0x0c29 }, { 0x0c3a, 0x0c3b },
	{ 0x0c45, 0x0c45 }, { 0x0c49, 0x0c49 }, { 0x0c4e, 0x0c54 },
	{ 0x0c57, 0x0c57 }, { 0x0c5b, 0x0c5c }, { 0x0c5e, 0x0c5f },
	{ 0x0c64, 0x0c65 }, { 0x0c70, 0x0c76 }, { 0x0c8d, 0x0c8d },
	{ 0x0c91, 0x0c91 }, { 0x0ca9, 0x0ca9 }, { 0x0cb4, 0x0cb4 },
	{ 0x0cba, 0x0cbb }, { 0x0cc5, 0x0cc5 }, { 0x0cc9, 0x0cc9 },
	{ 0x0cce, 0x0cd4 }, { 0x0cd7, 0x0cdc }, { 0x0cdf, 0x0cdf },
	{ 0x0ce4, 0x0ce5 }, { 0x0cf0, 0x0cf0 }, { 0x0cf3, 0x0cff },
	{ 0x0d0d, 0x0d0d }, { 0x0d11, 0x0d11 }, { 0x0d45, 0x0d45 },
	{ 0x0d49, 0x0d49 }, { 0x0d50, 0x0d53 }, { 0x0d64, 0x0d65 },
	{ 0x0d80, 0x0d80 }, { 0x0d84, 0x0d84 }, { 0x0d97, 0x0d99 },
	{ 0x0db2, 0x0db2 }, { 0x0dbc, 0x0dbc }, { 0x0dbe, 0x0dbf },
	{ 0x0dc7, 0x0dc9 }, { 0x0dcb, 0x0dce }, { 0x0dd5, 0x0dd5 },
	{ 0x0dd7, 0x0dd7 }, { 0x0de0, 0x0de5 }, { 0x0df0, 0x0df1 },
	{ 0x0df5, 0x0e00 }, { 0x0e3b, 0x0e3e }, { 0x0e5c, 0x0e80 },
	{ 0x0e83, 0x0e83 }, { 0x0e85, 0x0e85 }, { 0x0e8b, 0x0e8b },
	{ 0x0ea4, 0x0ea4 }, { 0x0ea6, 0x0ea6 }, { 0x0ebe, 0x0ebf },
	{ 0x0ec5, 0x0ec5 }, { 0x0ec7, 0x0ec7 }, { 0x0ece, 0x0ecf },
	{ 0x0eda, 0x0edb }, { 0x0ee0, 0x0eff }, { 0x0f48, 0x0f48 },
	{ 0x0f6d, 0x0f70 }, { 0x0f98, 0x0f98 }, { 0x0fbd, 0x0fbd },
	{ 0x0fcd, 0x0fcd }, { 0x0fdb, 0x0fff }, { 0x10c6, 0x10c6 },
	{ 0x10c8, 0x10cc }, { 0x10ce, 0x10cf }, { 0x1249, 0x1249 },
	{ 0x124e, 0x124f }, { 0x1257, 0x1257 }, { 0x1259, 0x1259 },
	{ 0x125e, 0x125f }, { 0x1289, 0x1289 }, { 0x128e, 0x128f },
	{ 0x12b1, 0x12b1 }, { 0x12b6, 0x12b7 }, { 0x12bf, 0x12bf },
	{ 0x12c1, 0x12c1 }, { 0x12c6, 0x12c7 }, { 0x12d7, 0x12d7 },
	{ 0x1311, 0x1311 }, { 0x1316, 0x1317 }, { 0x135b, 0x135c },
	{ 0x137d, 0x137f }, { 0x139a, 0x139f }, { 0x13f6, 0x13f7 },
	{ 0x13fe, 0x13ff }, { 0x1680, 0x1680 }, { 0x169d, 0x169f },
	{ 0x16f9, 0x16ff }, { 0x1716, 0x171e }, { 0x1737, 0x173f },
	{ 0x1754, 0x175f }, { 0x176d, 0x176d }, { 0x1771, 0x1771 },
	{ 0x1774, 0x177f }, { 0x17de, 0x17df }, { 0x17ea, 0x17ef },
	{ 0x17fa, 0x17ff }, { 0x180e, 0x180e }, { 0x181a, 0x181f },
	{ 0x1879, 0x187f }, { 0x18ab, 0x18af }, { 0x18f6, 0x18ff },
	{ 0x191f, 0x191f }, { 0x192c, 0x192f }, { 0x193c, 0x193f },
	{ 0x1941, 0x1943 }, { 0x196e, 0x196f }, { 0x1975, 0x197f },
	{ 0x19ac, 0x19af }, { 0x19ca, 0x19cf }, { 0x19db, 0x19dd },
	{ 0x1a1c, 0x1a1d }, { 0x1a5f, 0x1a5f }, { 0x1a7d, 0x1a7e },
	{ 0x1a8a, 0x1a8f }, { 0x1a9a, 0x1a9f }, { 0x1aae, 0x1aaf },
	{ 0x1acf, 0x1aff }, { 0x1b4d, 0x1b4f }, { 0x1b7f, 0x1b7f },
	{ 0x1bf4, 0x1bfb }, { 0x1c38, 0x1c3a }, { 0x1c4a, 0x1c4c },
	{ 0x1c89, 0x1c8f }, { 0x1cbb, 0x1cbc }, { 0x1cc8, 0x1ccf },
	{ 0x1cfb, 0x1cff }, { 0x1f16, 0x1f17 }, { 0x1f1e, 0x1f1f },
	{ 0x1f46, 0x1f47 }, { 0x1f4e, 0x1f4f }, { 0x1f58, 0x1f58 },
	{ 0x1f5a, 0x1f5a }, { 0x1f5c, 0x1f5c }, { 0x1f5e, 0x1f5e },
	{ 0x1f7e, 0x1f7f }, { 0x1fb5, 0x1fb5 }, { 0x1fc5, 0x1fc5 },
	{ 0x1fd4, 0x1fd5 }, { 0x1fdc, 0x1fdc }, { 0x1ff0, 0x1ff1 },
	{ 0x1ff5, 0x1ff5 }, { 0x1fff, 0x200f }, { 0x2028, 0x202f },
	{ 0x205f, 0x206f }, { 0x2072, 0x2073 }, { 0x208f, 0x208f },
	{ 0x209d, 0x209f }, { 0x20c1, 0x20cf }, { 0x20f1, 0x20ff },
	{ 0x218c, 0x218f }, { 0x2427, 0x243f }, { 0x244b, 0x245f },
	{ 0x2b74, 0x2b75 }, { 0x2b96, 0x2b96 }, { 0x2cf4, 0x2cf8 },
	{ 0x2d26, 0x2d26 }, { 0x2d28, 0x2d2c }, { 0x2d2e, 0x2d2f },
	{ 0x2d68, 0x2d6e }, { 0x2d71, 0x2d7e }, { 0x2d97, 0x2d9f },
	{ 0x2da7, 0x2da7 }, { 0x2daf, 0x2daf }, { 0x2db7, 0x2db7 },
	{ 0x2dbf, 0x2dbf }, { 0x2dc7, 0x2dc7 }, { 0x2dcf, 0x2dcf },
	{ 0x2dd7, 0x2dd7 }, { 0x2ddf, 0x2ddf }, { 0x2e5e, 0x2e7f },
	{ 0x2e9a, 0x2e9a }, { 0x2ef4, 0x2eff }, { 0x2fd6, 0x2fef },
	{ 0x2ffc, 0x3000 }, { 0x3040, 0x3040 }, { 0x3097, 0x3098 },
	{ 0x3100, 0x3104 }, { 0x3130, 0x3130 }, { 0x318f, 0x318f },
	{ 0x31e4, 0x31ef }, { 0x321f, 0x321f }, { 0xa48d, 0xa48f },
	{ 0xa4c7, 0xa4cf }, { 0xa62c, 0xa63f }, { 0xa6f8, 0xa6ff },
	{ 0xa7cb, 0xa7cf }, { 0xa7d2, 0xa7d2 }, { 0xa7d4, 0xa7d4 },
	{ 0xa7da, 0xa7f1 }, { 0xa82d, 0xa82f }, { 0xa83a, 0xa83f },
	{ 0xa878, 0xa87f }, { 0xa8c6, 0xa8cd }, { 0xa8da, 0xa8df },
	{ 0xa954, 0xa95e }, { 0xa97d, 0xa97f }, { 0xa9ce, 0xa9ce },
	{ 0xa9da, 0xa9dd }, { 0xa9ff, 0xa9ff }, { 0xaa37, 0xaa3f },
	{ 0xaa4e, 0xaa4f }, { 0xaa5a, 0xaa5b }, { 0xaac3, 0xaada },
	{ 0xaaf7, 0xab00 }, { 0xab07, 0xab08 }, { 0xab0f, 0xab10 },
	{ 0xab17, 0xab1f }, { 0xab27, 0xab27 }, { 0xab2f, 0xab2f },
	{ 0xab6c, 0xab6f }, { 0xabee, 0xabef }, { 0xabfa, 0xabff },
	{ 0xd7a4, 0xd7af }, { 0xd7c7, 0xd7ca }, { 0xd7fc, 0xf8ff },
	{ 0xfa6e, 0xfa6f }, { 0xfada, 0xfaff }, { 0xfb07, 0xfb12 },
	{ 0xfb18, 0xfb1c }, { 0xfb37, 0xfb37 }, { 0xfb3d, 0xfb3d },
	{ 0xfb3f, 0xfb3f }, { 0xfb42, 0xfb42 }, { 0xfb45, 0xfb45 },
	{ 0xfbc3, 0xfbd2 }, { 0xfd90, 0xfd91 }, { 0xfdc8, 0xfdce },
	{ 0xfdd0, 0xfdef }, { 0xfe1a, 0xfe1f }, { 0xfe53, 0xfe53 },
	{ 0xfe67, 0xfe67 }, { 0xfe6c, 0xfe6f }, { 0xfe75, 0xfe75 },
	{ 0xfefd, 0xff00 }, { 0xffbf, 0xffc1 }, { 0xffc8, 0xffc9 },
	{ 0xffd0, 0xffd1 }, { 0xffd8, 0xffd9 }, { 0xffdd, 0xffdf },
	{ 0xffe7, 0xffe7 }, { 0xffef, 0xfffb }, { 0xfffe, 0xffff },
	{ 0x1000c, 0x1000c }, { 0x10027, 0x10027 }, { 0x1003b, 0x1003b },
	{ 0x1003e, 0x1003e }, { 0x1004e, 0x1004f }, { 0x1005e, 0x1007f },
	{ 0x100fb, 0x100ff }, { 0x10103, 0x10106 }, { 0x10134, 0x10136 },
	{ 0x1018f, 0x1018f }, { 0x1019d, 0x1019f }, { 0x101a1, 0x101cf },
	{ 0x101fe, 0x1027f }, { 0x1029d, 0x1029f }, { 0x102d1, 0x102df },
	{ 0x102fc, 0x102ff }, { 0x10324, 0x1032c }, { 0x1034b, 0x1034f },
	{ 0x1037b, 0x1037f }, { 0x1039e, 0x1039e }, { 0x103c4, 0x103c7 },
	{ 0x103d6, 0x103ff }, { 0x1049e, 0x1049f }, { 0x104aa, 0x104af },
	{ 0x104d4, 0x104d7 }, { 0x104fc, 0x104ff }, { 0x10528, 0x1052f },
	{ 0x10564, 0x1056e }, { 0x1057b, 0x1057b }, { 0x1058b, 0x1058b },
	{ 0x10593, 0x10593 }, { 0x10596, 0x10596 }, { 0x105a2, 0x105a2 },
	{ 0x105b2, 0x105b2 }, { 0x105ba, 0x105ba }, { 0x105bd, 0x105ff },
	{ 0x10737, 0x1073f }, { 0x10756, 0x1075f }, { 0x10768, 0x1077f },
	{ 0x10786, 0x10786 }, { 0x107b1, 0x107b1 }, { 0x107bb, 0x107ff },
	{ 0x10806, 0x10807 }, { 0x10809, 0x10809 }, { 0x10836, 0x10836 },
	{ 0x10839, 0x1083b }, { 0x1083d, 0x1083e }, { 0x10856, 0x10856 },
	{ 0x1089f, 0x108a6 }, { 0x108b0, 0x108df }, { 0x108f3, 0x108f3 },
	{ 0x108f6, 0x108fa }, { 0x1091c, 0x1091e }, { 0x1093a, 0x1093e },
	{ 0x10940, 0x1097f }, { 0x109b8, 0x109bb }, { 0x109d0, 0x109d1 },
	{ 0x10a04, 0x10a04 }, { 0x10a07, 0x10a0b }, { 0x10a14, 0x10a14 },
	{ 0x10a18, 0x10a18 }, { 0x10a36, 0x10a37 }, { 0x10a3b, 0x10a3e },
	{ 0x10a49, 0x10a4f }, { 0x10a59, 0x10a5f }, { 0x10aa0, 0x10abf },
	{ 0x10ae7, 0x10aea }, { 0x10af7, 0x10aff }, { 0x10b36, 0x10b38 },
	{ 0x10b56, 0x10b57 }, { 0x10b73, 0x10b77 }, { 0x10b92, 0x10b98 },
	{ 0x10b9d, 0x10ba8 }, { 0x10bb0, 0x10bff }, { 0x10c49, 0x10c7f },
	{ 0x10cb3, 0x10cbf }, { 0x10cf3, 0x10cf9 }, { 0x10d28, 0x10d2f },
	{ 0x10d3a, 0x10e5f }, { 0x10e7f, 0x10e7f }, { 0x10eaa, 0x10eaa },
	{ 0x10eae, 0x10eaf }, { 0x10eb2, 0x10eff }, { 0x10f28, 0x10f2f },
	{ 0x10f5a, 0x10f6f }, { 0x10f8a, 0x10faf }, { 0x10fcc, 0x10fdf },
	{ 0x10ff7, 0x10fff }, { 0x1104e, 0x11051 }, { 0x11076, 0x1107e },
	{ 0x110bd, 0x110bd }, { 0x110c3, 0x110cf }, { 0x110e9, 0x110ef },
	{ 0x110fa, 0x110ff }, { 0x11135, 0x11135 }, { 0x11148, 0x1114f },
	{ 0x11177, 0x1117f }, { 0x111e0, 0x111e0 }, { 0x111f5, 0x111ff },
	{ 0x11212, 0x11212 }, { 0x1123f, 0x1127f }, { 0x11287, 0x11287 },
	{ 0x11289, 0x11289 }, { 0x1128e, 0x1128e }, { 0x1129e, 0x1129e },
	{ 0x112aa, 0x112af }, { 0x112eb, 0x112ef }, { 0x112fa, 0x112ff },
	{ 0x11304, 0x11304 }, { 0x1130d, 0x1130e }, { 0x11311, 0x11312 },
	{ 0x11329, 0x11329 }, { 0x11331, 0x11331 }, { 0x11334, 0x11334 },
	{ 0x1133a, 0x1133a }, { 0x11345, 0x11346 }, { 0x11349, 0x1134a },
	{ 0x1134e, 0x1134f }, { 0x11351, 0x11356 }, { 0x11358, 0x1135c },
	{ 0x11364, 0x11365 }, { 0x1136d, 0x1136f }, { 0x11375, 0x113ff },
	{ 0x1145c, 0x1145c }, { 0x11462, 0x1147f }, { 0x114c8, 0x114cf },
	{ 0x114da, 0x1157f }, { 0x115b6, 0x115b7 }, { 0x115de, 0x115ff },
	{ 0x11645, 0x1164f }, { 0x1165a, 0x1165f }, { 0x1166d, 0x1167f },
	{ 0x116ba, 0x116bf }, { 0x116ca, 0x116ff }, { 0x1171b, 0x1171c },
	{ 0x1172c, 0x1172f }, { 0x11747, 0x117ff }, { 0x1183c, 0x1189f },
	{ 0x118f3, 0x118fe }, { 0x11907, 0x11908 }, { 0x1190a, 0x1190b },
	{ 0x11914, 0x11914 }, { 0x11917, 0x11917 }, { 0x11936, 0x11936 },
	{ 0x11939, 0x1193a }, { 0x11947, 0x1194f }, { 0x1195a, 0x1199f },
	{ 0x119a8, 0x119a9 }, { 0x119d8, 0x119d9 }, { 0x119e5, 0x119ff },
	{ 0x11a48, 0x11a4f }, { 0x11aa3, 0x11aaf }, { 0x11af9, 0x11bff },
	{ 0x11c09, 0x11c09 }, { 0x11c37, 0x11c37 }, { 0x11c46, 0x11c4f },
	{ 0x11c6d, 0x11c6f }, { 0x11c90, 0x11c91 }, { 0x11ca8, 0x11ca8 },
	{ 0x11cb7, 0x11cff }, { 0x11d07, 0x11d07 }, { 0x11d0a, 0x11d0a },
	{ 0x11d37, 0x11d39 }, { 0x11d3b, 0x11d3b }, { 0x11d3e, 0x11d3e },
	{ 0x11d48, 0x11d4f }, { 0x11d5a, 0x11d5f }, { 0x11d66, 0x11d66 },
	{ 0x11d69, 0x11d69 }, { 0x11d8f, 0x11d8f }, { 0x11d92, 0x11d92 },
	{ 0x11d99, 0x11d9f }, { 0x11daa, 0x11edf }, { 0x11ef9, 0x11faf },
	{ 0x11fb1, 0x11fbf }, { 0x11ff2, 0x11ffe }, { 0x1239a, 0x123ff },
	{ 0x1246f, 0x1246f }, { 0x12475, 0x1247f }, { 0x12544, 0x12f8f },
	{ 0x12ff3, 0x12fff }, { 0x1342f, 0x143ff }, { 0x14647, 0x167ff },
	{ 0x16a39, 0x16a3f }, { 0x16a5f, 0x16a5f }, { 0x16a6a, 0x16a6d },
	{ 0x16abf, 0x16abf }, { 0x16aca, 0x16acf }, { 0x16aee, 0x16aef },
	{ 0x16af6, 0x16aff }, { 0x16b46, 0x16b4f }, { 0x16b5a, 0x16b5a },
	{ 0x16b62, 0x16b62 }, { 0x16b78, 0x16b7c }, { 0x16b90, 0x16e3f },
	{ 0x16e9b, 0x16eff }, { 0x16f4b, 0x16f4e }, { 0x16f88, 0x16f8e },
	{ 0x16fa0, 0x16fdf }, { 0x16fe5, 0x16fef }, { 0x16ff2, 0x16fff },
	{ 0x187f8, 0x187ff }, { 0x18cd6, 0x18cff }, { 0x18d09, 0x1afef },
	{ 0x1aff4, 0x1aff4 }, { 0x1affc, 0x1affc }, { 0x1afff, 0x1afff },
	{ 0x1b123, 0x1b14f }, { 0x1b153, 0x1b163 }, { 0x1b168, 0x1b16f },
	{ 0x1b2fc, 0x1bbff }, { 0x1bc6b, 0x1bc6f }, { 0x1bc7d, 0x1bc7f },
	{ 0x1bc89, 0x1bc8f }, { 0x1bc9a, 0x1bc9b }, { 0x1bca0, 0x1ceff },
	{ 0x1cf2e, 0x1cf2f }, { 0x1cf47, 0x1cf4f }, { 0x1cfc4, 0x1cfff },
	{ 0x1d0f6, 0x1d0ff }, { 0x1d127, 0x1d128 }, { 0x1d173, 0x1d17a },
	{ 0x1d1eb, 0x1d1ff }, { 0x1d246, 0x1d2df }, { 0x1d2f4, 0x1d2ff },
	{ 0x1d357, 0x1d35f }, { 0x1d379, 0x1d3ff }, { 0x1d455, 0x1d455 },
	{ 0x1d49d, 0x1d49d }, { 0x1d4a0, 0x1d4a1 }, { 0x1d4a3, 0x1d4a4 },
	{ 0x1d4a7, 0x1d4a8 }, { 0x1d4ad, 0x1d4ad }, { 0x1d4ba, 0x1d4ba },
	{ 0x1d4bc, 0x1d4bc }, { 0x1d4c4, 0x1d4c4 }, { 0x1d506, 0x1d506 },
	{ 0x1d50b, 0x1d50c }, { 0x1d515, 0x1d515 }, { 0x1d51d, 0x1d51d },
	{ 0x1d53a, 0x1d53a }, { 0x1d53f, 0x1d53f }, { 0x1d545, 0x1d545 },
	{ 0x1d547, 0x1d549 }, { 0x1d551, 0x1d551 }, { 0x1d6a6, 0x1d6a7 },
	{ 0x1d7cc, 0x1d7cd }, { 0x1da8c, 0x1da9a }, { 0x1daa0, 0x1daa0 },
	{ 0x1dab0, 0x1deff }, { 0x1df1f, 0x1dfff }, { 0x1e007, 0x1e007 },
	{ 0x1e019, 0x1e01a }, { 0x1e022, 0x1e022 }, { 0x1e025, 0x1e025 },
	{ 0x1e02b, 0x1e0ff }, { 0x1e12d, 0x1e12f }, { 0x1e13e, 0x1e13f },
	{ 0x1e14a, 0x1e14d }, { 0x1e150, 0x1e28f }, { 0x1e2af, 0x1e2bf },
	{ 0x1e2fa, 0x1e2fe }, { 0x1e300, 0x1e7df }, { 0x1e7e7, 0x1e7e7 },
	{ 0x1e7ec, 0x1e7ec }, { 0x1e7ef, 0x1e7ef }, { 0x1e7ff, 0x1e7ff },
	{ 0x1e8c5, 0x1e8c6 }, { 0x1e8d7, 0x1e8ff }, { 0x1e94c, 0x1e94f },
	{ 0x1e95a, 0x1e95d }, { 0x1e960, 0x1ec70 }, { 0x1ecb5, 0x1ed00 },
	{ 0x1ed3e, 0x1edff }, { 0x1ee04, 0x1ee04 }, { 0x1ee20, 0x1ee20 },
	{ 0x1ee23, 0x1ee23 }, { 0x1ee25, 0x1ee26 }, { 0x1ee28, 0x1ee28 },
	{ 0x1ee33, 0x1ee33 }, { 0x1ee38, 0x1ee38 }, { 0x1ee3a, 0x1ee3a },
	{ 0x1ee3c, 0x1ee41 }, { 0x1ee43, 0x1ee46 }, { 0x1ee48, 0x1ee48 },
	{ 0x1ee4a, 0x1ee4a }, { 0x1ee4c, 0x1ee4c }, { 0x1ee50, 0x1ee50 },
	{ 0x1ee53, 0x1ee53 }, { 0x1ee55, 0x1ee56 }, { 0x1ee58, 0x1ee58 },
	{ 0x1ee5a, 0x1ee5a }, { 0x1ee5c, 0x1ee5c }, { 0x1ee5e, 0x1ee5e },
	{ 0x1ee60, 0x1ee60 }, { 0x1ee63, 0x1ee63 }, { 0x1ee65, 0x1ee66 },
	{ 0x1ee6b, 0x1ee6b }, { 0x1ee73, 0x1ee73 }, { 0x1ee78, 0x1ee78 },
	{ 0x1ee7d, 0x1ee7d }, { 0x1ee7f, 0x1ee7f }, { 0x1ee8a, 0x1ee8a },
	{ 0x1ee9c, 0x1eea0 }, { 0x1eea4, 0x1eea4 }, { 0x1eeaa, 0x1eeaa },
	{ 0x1eebc, 0x1eeef }, { 0x1eef2, 0x1efff }, { 0x1f02c, 0x1f02f },
	{ 0x1f094, 0x1f09f }, { 0x1f0af, 0x1f0b0 }, { 0x1f0c0, 0x1f0c0 },
	{ 0x1f0d0, 0x1f0d0 }, { 0x1f0f6, 0x1f0ff }, { 0x1f1ae, 0x1f1e5 },
	{ 0x1f203, 0x1f20f }, { 0x1f23c, 0x1f23f }, { 0x1f249, 0x1f24f },
	{ 0x1f252, 0x1f25f }, { 0x1f266, 0x1f2ff }, { 0x1f6d8, 0x1f6dc },
	{ 0x1f6ed, 0x1f6ef }, { 0x1f6fd, 0x1f6ff }, { 0x1f774, 0x1f77f },
	{ 0x1f7d9, 0x1f7df }, { 0x1f7ec, 0x1f7ef }, { 0x1f7f1, 0x1f7ff },
	{ 0x1f80c, 0x1f80f }, { 0x1f848, 0x1f84f }, { 0x1f85a, 0x1f85f },
	{ 0x1f888, 0x1f88f }, { 0x1f8ae, 0x1f8af }, { 0x1f8b2, 0x1f8ff },
	{ 0x1fa54, 0x1fa5f }, { 0x1fa6e, 0x1fa6f }, { 0x1fa75, 0x1fa77 },
	{ 0x1fa7d, 0x1fa7f }, { 0x1fa87, 0x1fa8f }, { 0x1faad, 0x1faaf },
	{ 0x1fabb, 0x1fabf }, { 0x1fac6, 0x1facf }, { 0x1fada, 0x1fadf },
	{ 0x1fae8, 0x1faef }, { 0x1faf7, 0x1faff }, { 0x1fb93, 0x1fb93 },
	{ 0x1fbcb, 0x1fbef }, { 0x1fbfa, 0x1ffff }, { 0x2a6e0, 0x2a6ff },
	{ 0x2b739, 0x2b73f }, { 0x2b81e, 0x2b81f }, { 0x2cea2, 0x2ceaf },
	{ 0x2ebe1, 0x2f7ff }, { 0x2fa1e, 0x2ffff }, { 0x3134b, 0xe00ff },
	{ 0xe01f0, 0x10ffff },
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->err != 0)
		return;
	if (n > DUMP_MAX_OUT - b->len) {
		b->err = EMSGSIZE;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap == 0 ? 1024 : b->cap;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

static void
buf_addf(struct buf *b, const char *fmt, ...) __printflike(2, 3);

static void
buf_addf(struct buf *b, const char *fmt, ...)
{
	char	 tmp[64];
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		if (b->err == 0)
			b->err = EINVAL;
		return;
	}
	buf_add(b, tmp, (size_t)r);
}

/* Hand the buffer to the caller (NULL and errno on failure). */
static char *
buf_finish(struct buf *b, size_t *lenp)
{
	if (b->err == 0 && b->p == NULL)
		buf_add(b, "", 0);
	if (b->err != 0) {
		free(b->p);
		errno = b->err;
		return NULL;
	}
	if (lenp != NULL)
		*lenp = b->len;
	return b->p;
}

static int
range_cmp(const void *key, const void *elem)
{
	uint32_t		 c = *(const uint32_t *)key;
	const struct range	*r = elem;

	if (c < r->lo)
		return -1;
	if (c > r->hi)
		return 1;
	return 0;
}

/* Python's str.isprintable() for one code point. */
static int
py_isprintable(uint32_t c)
{
	if (c < 0x80)
		return c >= 0x20 && c < 0x7f;
	if (c >= 0xd800 && c <= 0xdfff)
		return 0;
	return bsearch(&c, nonprintable, nitems(nonprintable),
	    sizeof(nonprintable[0]), range_cmp) == NULL;
}

/* m * 10^scale as a C string strtod() understands; 1 if it equals d. */
static int
roundtrips(uint64_t m, int scale, double d)
{
	char	tmp[48];

	snprintf(tmp, sizeof(tmp), "%llue%d", (unsigned long long)m, scale);
	return strtod(tmp, NULL) == d;
}

/*
 * Python's repr() of a finite double: the shortest digit string that reads
 * back as the same double (CPython's dtoa mode 0), printed in fixed
 * notation unless the decimal exponent is < -4 or >= 16. out must have
 * room for 32 bytes. Returns -1 for NaN and infinities.
 */
static int
float_repr(double d, char *out, size_t outlen)
{
	char	 tmp[48], digits[24], *p;
	uint64_t m = 0, t;
	double	 a;
	int	 prec, start, e, scale, nd, x, i, found = 0;
	size_t	 o = 0;

	if (!isfinite(d) || outlen < 32)
		return -1;
	if (d == 0) {
		strlcpy(out, signbit(d) ? "-0.0" : "0.0", outlen);
		return 0;
	}
	a = fabs(d);
	scale = 0;
	/*
	 * A non-integer with k integer digits needs more than k digits:
	 * with k or fewer every candidate below is an integer. Start at k + 1
	 * (a timestamp skips ten rounds of snprintf; doubles from 2^53 up are
	 * all integers).
	 */
	start = 1;
	if (a >= 1 && a < 9007199254740992.0 && a != floor(a))
		for (t = (uint64_t)a, start = 2; t >= 10; t /= 10)
			start++;
	for (prec = start; prec <= 17 && !found; prec++) {
		/* Correctly rounded to prec digits: "D.DDDDe+XX". */
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		m = 0;
		for (p = tmp; *p != 'e' && *p != '\0'; p++)
			if (*p >= '0' && *p <= '9')
				m = m * 10 + (uint64_t)(*p - '0');
		e = *p == 'e' ? atoi(p + 1) : 0;
		scale = e - (prec - 1);
		if (roundtrips(m, scale, a))
			found = 1;
		/*
		 * The nearest prec-digit number may miss the rounding
		 * interval of a power of two (it is lopsided there) while
		 * a neighbour hits it: dtoa would print the neighbour.
		 */
		else if (roundtrips(m + 1, scale, a)) {
			m++;
			found = 1;
		} else if (m > 1 && roundtrips(m - 1, scale, a)) {
			m--;
			found = 1;
		}
	}
	if (!found)
		return -1;	/* NOTREACHED: 17 digits always round-trip */
	while (m % 10 == 0) {
		m /= 10;
		scale++;
	}
	nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)m);
	x = scale + nd - 1;	/* decimal exponent of the first digit */

	if (d < 0)
		out[o++] = '-';
	if (x < -4 || x >= 16) {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, outlen - o, "e%c%02d", x < 0 ? '-' : '+',
		    x < 0 ? -x : x);
		return 0;
	}
	if (x < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -x - 1; i++)
			out[o++] = '0';
		for (i = 0; i < nd; i++)
			out[o++] = digits[i];
	} else {
		for (i = 0; i <= x; i++)
			out[o++] = i < nd ? digits[i] : '0';
		out[o++] = '.';
		if (nd > x + 1)
			for (i = x + 1; i < nd; i++)
				out[o++] = digits[i];
		else
			out[o++] = '0';
	}
	out[o] = '\0';
	return 0;
}

/* A json-c integer in decimal; values above INT64_MAX are kept as uint64. */
static void
int_dump(struct buf *b, json_object *o)
{
	int64_t	i;

	char		 tmp[24], *p = tmp + sizeof(tmp);
	uint64_t	 u;

	i = json_object_get_int64(o);
	if (i == INT64_MAX)
		u = json_object_get_uint64(o);
	else
		u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (i < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * A JSON string as json.dumps(ensure_ascii=True) writes it. Bytes that
 * are not valid UTF-8 cannot come from Python; each becomes U+FFFD, as
 * Python's errors="replace" would decode it.
 */
static void
string_dump(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 i, run, n;

	buf_addc(b, '"');
	for (i = 0; i < len && b->err == 0;) {
		for (run = i; run < len && u[run] >= 0x20 && u[run] < 0x7f &&
		    u[run] != '"' && u[run] != '\\'; run++)
			;
		if (run > i) {
			buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		switch (u[i]) {
		case '"':
			buf_adds(b, "\\\"");
			break;
		case '\\':
			buf_adds(b, "\\\\");
			break;
		case '\b':
			buf_adds(b, "\\b");
			break;
		case '\f':
			buf_adds(b, "\\f");
			break;
		case '\n':
			buf_adds(b, "\\n");
			break;
		case '\r':
			buf_adds(b, "\\r");
			break;
		case '\t':
			buf_adds(b, "\\t");
			break;
		default:
			if ((n = utf8_decode(u + i, len - i, &cp)) == 0) {
				buf_adds(b, "\\ufffd");
				n = 1;
			} else if (cp >= 0x10000) {
				cp -= 0x10000;
				buf_addf(b, "\\u%04x\\u%04x",
				    0xd800 | (unsigned)(cp >> 10),
				    0xdc00 | (unsigned)(cp & 0x3ff));
			} else
				buf_addf(b, "\\u%04x", (unsigned)cp);
			i += n;
			continue;
		}
		i++;
	}
	buf_addc(b, '"');
}

static void
dump(struct buf *b, json_object *o, int depth)
{
	struct json_object_iter	 it;
	char			 num[48];
	size_t			 i, n;
	int			 first = 1;

	if (b->err != 0)
		return;
	if (depth > DUMP_MAX_DEPTH) {
		b->err = EINVAL;
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		buf_adds(b, "null");
		break;
	case json_type_boolean:
		buf_adds(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
		int_dump(b, o);
		break;
	case json_type_double:
		if (float_repr(json_object_get_double(o), num,
		    sizeof(num)) == -1) {
			b->err = EINVAL;	/* NaN, Infinity */
			return;
		}
		buf_adds(b, num);
		break;
	case json_type_string:
		string_dump(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		buf_addc(b, '[');
		n = json_object_array_length(o);
		for (i = 0; i < n && b->err == 0; i++) {
			if (i > 0)
				buf_adds(b, ", ");
			dump(b, json_object_array_get_idx(o, i), depth + 1);
		}
		buf_addc(b, ']');
		break;
	case json_type_object:
		buf_addc(b, '{');
		json_object_object_foreachC(o, it) {
			if (!first)
				buf_adds(b, ", ");
			first = 0;
			string_dump(b, it.key, strlen(it.key));
			buf_adds(b, ": ");
			dump(b, it.val, depth + 1);
			if (b->err != 0)
				break;
		}
		buf_addc(b, '}');
		break;
	default:
		b->err = EINVAL;
		break;
	}
}

char *
pyjson_dumps(json_object *obj, size_t *lenp)
{
	struct buf	b = { 0 };

	dump(&b, obj, 0);
	return buf_finish(&b, lenp);
}

/* A code point >= U+10000 as 4 bytes of UTF-8. */
static void
utf8_put4(char *out, uint32_t cp)
{
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
}

/* Four hex digits at s into *v; 0 if they are not. */
static int
hex4(const char *s, uint32_t *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			*v |= (uint32_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			*v |= (uint32_t)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			*v |= (uint32_t)(s[i] - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/*
 * json-c 0.16 decodes an escaped surrogate pair whose code point looks
 * like a surrogate in its low 16 bits ((cp & 0xf800) == 0xd800, e.g.
 * U+1D800, U+2DC00) as U+FFFD (json-c PR #893). Python escapes every
 * non-ASCII character, so such pairs are rewritten to raw UTF-8 before
 * parsing. A backslash only ever starts an escape in valid JSON, so no
 * string tracking is needed; invalid JSON stays invalid. Writes to out
 * (room for len bytes) when it is not NULL; returns the number of pairs
 * rewritten, the new length in *outlen.
 */
static size_t
fix_pairs(const char *buf, size_t len, char *out, size_t *outlen)
{
	uint32_t hi, lo, cp;
	size_t	 i, o = 0, n = 0, step;

	for (i = 0; i < len; i += step) {
		const char *bs;

		/* Only backslashes matter: copy the run up to the next one. */
		if (buf[i] != '\\') {
			bs = memchr(buf + i, '\\', len - i);
			step = bs == NULL ? len - i : (size_t)(bs - (buf + i));
			if (out != NULL)
				memcpy(out + o, buf + i, step);
			o += step;
			continue;
		}
		step = 1;
		if (i + 1 < len) {
			step = 2;
			if (buf[i + 1] == 'u' && i + 12 <= len &&
			    hex4(buf + i + 2, &hi) && hi >= 0xd800 &&
			    hi <= 0xdbff && buf[i + 6] == '\\' &&
			    buf[i + 7] == 'u' && hex4(buf + i + 8, &lo) &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				step = 12;
				cp = 0x10000 + ((hi - 0xd800) << 10) +
				    (lo - 0xdc00);
				if ((cp & 0xf800) == 0xd800) {
					if (out != NULL)
						utf8_put4(out + o, cp);
					o += 4;
					n++;
					continue;
				}
			}
		}
		if (out != NULL)
			memcpy(out + o, buf + i, step);
		o += step;
	}
	*outlen = o;
	return n;
}

/*
 * The scanner (issue 17): json-c's tokener walks every character through
 * its state machine, allocates per token, and makes a locale per number
 * (newlocale, duplocale, freelocale); a request or reply body of the
 * shape kombu writes cost it ~20k instructions. Only what Python's
 * json.loads() would read the same way is taken here.
 */
void
jscan_ws(struct jscan *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' ||
	    *f->p == '\n' || *f->p == '\r'))
		f->p++;
}

/*
 * Where the run of string bytes from p ends: at the first '"' or '\\'
 * (lax), or also at a control byte or one above 0x7e (strict); end when
 * none. The scans spend most of their time here (a reply envelope is
 * ~430 bytes, most of them inside strings), so eight bytes are tested at
 * once while no word holds such a byte, with the usual SWAR tests (a
 * byte below n, above n, equal to 0 after an XOR), each exact as to
 * whether the word holds one, and a false hit (a borrow or a carry) only
 * ever above a true one, so the lowest flagged byte is the first stop.
 */
#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL
#define SWAR_ZERO(w)	(((w) - SWAR_ONES) & ~(w) & SWAR_HIGHS)
static const char *
run_end(const char *p, const char *end, int strict)
{
	uint64_t	w, stop;

	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, sizeof(w));
		stop = SWAR_ZERO(w ^ (SWAR_ONES * '"')) |
		    SWAR_ZERO(w ^ (SWAR_ONES * '\\'));
		if (strict)	/* < 0x20, > 0x7e */
			stop |= ((w - SWAR_ONES * 0x20) & ~w & SWAR_HIGHS) |
			    (((w + SWAR_ONES * (0x7f - 0x7e)) | w) &
			    SWAR_HIGHS);
		if (stop != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* false hits lie only above a true one: the lowest */
			return p + __builtin_ctzll(stop) / 8;
#else
			break;
#endif
		}
	}
	for (; p < end; p++)
		if (*p == '"' || *p == '\\' || (strict && (*p < 0x20 ||
		    *p > 0x7e)))
			break;
	return p;
}

/* A string of printable ASCII without escapes: its text, or -1. */
int
jscan_str(struct jscan *f, const char **s, size_t *len)
{
	const char	*q;

	if (f->p >= f->end || *f->p != '"')
		return -1;
	q = run_end(++f->p, f->end, 1);
	if (q >= f->end || *q != '"')
		return -1;
	*s = f->p;
	*len = (size_t)(q - f->p);
	f->p = q + 1;
	return 0;
}

/*
 * A member's key and its ':', whitespace around both skipped: the key's
 * text (jscan_str()'s), or -1.
 */
int
jscan_key(struct jscan *f, const char **k, size_t *kl)
{
	jscan_ws(f);
	if (jscan_str(f, k, kl) == -1)
		return -1;
	jscan_ws(f);
	if (f->p >= f->end || *f->p++ != ':')
		return -1;
	jscan_ws(f);
	return 0;
}

/* After a member: 1 for ',' (another follows), 0 for '}', else -1. */
int
jscan_next(struct jscan *f)
{
	jscan_ws(f);
	if (f->p < f->end && *f->p == ',') {
		f->p++;
		return 1;
	}
	if (f->p < f->end && *f->p++ == '}')
		return 0;
	return -1;
}

/*
 * The extent of one object value (its syntax is checked by the parse
 * that follows): strings with escapes skipped, brackets counted. -1 when
 * unbalanced or nested deeper than JSCAN_DEPTH.
 */
int
jscan_skip(struct jscan *f)
{
	const char	*p = f->p;
	int		 depth = 0;

	if (p >= f->end || *p != '{')
		return -1;
	for (; p < f->end; p++) {
		switch (*p) {
		case '"':
			/*
			 * To the closing quote, over each backslash and the
			 * byte it escapes. A string that ends the text
			 * leaves the object open: -1 either way.
			 */
			for (p++;; p += 2) {
				p = run_end(p, f->end, 0);
				if (f->end - p < 2)
					return -1;
				if (*p == '"')
					break;
			}
			break;
		case '{':
		case '[':
			if (++depth > JSCAN_DEPTH)
				return -1;
			break;
		case '}':
		case ']':
			if (--depth == 0) {
				f->p = p + 1;
				return 0;
			}
			break;
		}
	}
	return -1;
}

/*
 * The next member's key of an object whose members may only be those
 * named in keys[nkeys] (at most 32), each once (*seen has their bits):
 * its index, or -1 for another key, a repeated one or a syntax error.
 */
int
jscan_member(struct jscan *f, const char *const *keys, size_t nkeys,
    unsigned *seen)
{
	const char	*k;
	size_t		 kl, i;

	if (jscan_key(f, &k, &kl) == -1)
		return -1;
	for (i = 0; i < nkeys; i++)
		if (strlen(keys[i]) == kl && memcmp(keys[i], k, kl) == 0)
			break;
	if (i == nkeys || i >= 32 || (*seen & (1u << i)))
		return -1;
	*seen |= 1u << i;
	return (int)i;
}

/*
 * Whitespace and the '{' of an object: 0 with a member to come, 1 for
 * an empty object (its '}' taken too), or -1.
 */
int
jscan_open(struct jscan *f)
{
	jscan_ws(f);
	if (f->p >= f->end || *f->p != '{')
		return -1;
	f->p++;
	jscan_ws(f);
	if (f->p < f->end && *f->p == '}') {
		f->p++;
		return 1;
	}
	return 0;
}

/* 1 and past it when the text at f->p is word (null, true...), else 0. */
int
jscan_lit(struct jscan *f, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
		return 0;
	f->p += n;
	return 1;
}

/*
 * A NUL-terminated copy of buf[len] for a scan that terminates its
 * strings in place, f set on it; NULL when too large, holding a NUL
 * byte, or on ENOMEM.
 */
char *
jscan_copy(const char *buf, size_t len, struct jscan *f)
{
	char	*c;

	if (len > MAX_ENVELOPE || memchr(buf, '\0', len) != NULL ||
	    (c = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(c, buf, len);
	c[len] = '\0';
	f->p = c;
	f->end = c + len;
	return c;
}

/*
 * A number as JSON spells it (-?int frac? exp?) at f->p: 1 for an
 * integer of at most 18 digits (*i; "-0" is left to the tokener), 2 for
 * a finite float of at most 40 characters (*d), 0 for anything else (the
 * tokener decides). The float is strtod_l's in the C locale, what
 * json-c runs too, with the locale made once here rather than per
 * number. f->p moves past the number only when it is taken.
 */
int
jscan_num(struct jscan *f, int64_t *i, double *d)
{
	static locale_t	 c_locale;
	const char	*q = f->p, *e, *digits;
	char		 text[48], *end;
	int		 frac = 0, exp = 0, neg = 0;

	if (q < f->end && *q == '-') {
		neg = 1;
		q++;
	}
	digits = q;
	if (q < f->end && *q == '0')
		q++;
	else if (q < f->end && *q >= '1' && *q <= '9')
		while (q < f->end && *q >= '0' && *q <= '9')
			q++;
	else
		return 0;
	if (q < f->end && *q == '.') {
		for (e = ++q; q < f->end && *q >= '0' && *q <= '9'; q++)
			;
		if (q == e)
			return 0;
		frac = 1;
	}
	if (q < f->end && (*q == 'e' || *q == 'E')) {
		if (++q < f->end && (*q == '+' || *q == '-'))
			q++;
		for (e = q; q < f->end && *q >= '0' && *q <= '9'; q++)
			;
		if (q == e)
			return 0;
		exp = 1;
	}
	if (!frac && !exp) {
		if (q - digits > 18 || (neg && *digits == '0'))
			return 0;
		for (*i = 0, e = digits; e < q; e++)
			*i = *i * 10 + (*e - '0');
		if (neg)
			*i = -*i;
		f->p = q;
		return 1;
	}
	if (q - f->p >= (ptrdiff_t)sizeof(text) - 8)
		return 0;
	if (c_locale == (locale_t)0 && (c_locale = newlocale(LC_ALL_MASK,
	    "C", (locale_t)0)) == (locale_t)0)
		return 0;
	memcpy(text, f->p, (size_t)(q - f->p));
	text[q - f->p] = '\0';
	*d = strtod_l(text, &end, c_locale);
	if (*end != '\0' || !isfinite(*d))
		return 0;
	f->p = q;
	return 2;
}

/*
 * A small object built without json-c's tokener: members with simple
 * keys whose values are simple strings, numbers (jscan_num()), null,
 * true, false, or such objects (up to JSCAN_DEPTH). NULL for anything
 * else (escapes, arrays, duplicate keys, ...): the caller parses that
 * value with pyjson_parse() instead.
 * json-c's own number parsing makes a locale per number (newlocale,
 * duplocale, freelocale), which made the three numbers of a reply
 * envelope cost as much as the rest of it.
 */
json_object *
jscan_obj(struct jscan *f, int depth)
{
	json_object	*o, *v;
	const char	*k, *s, *start, *seen[8];
	char		 key[128], num[48];
	size_t		 kl, sl, seenl[8], nseen = 0, i;
	int64_t		 n;
	double		 d;
	int		 r;

	if (depth > JSCAN_DEPTH || (r = jscan_open(f)) == -1)
		return NULL;
	if ((o = json_object_new_object()) == NULL || r == 1)
		return o;
	do {
		if (jscan_key(f, &k, &kl) == -1 || kl >= sizeof(key))
			goto fail;
		memcpy(key, k, kl);
		key[kl] = '\0';
		/*
		 * A duplicate key is the full parse's (the last one wins).
		 * The first keys are compared as text: cheaper than hashing
		 * each for a lookup in o.
		 */
		if (nseen < nitems(seen)) {
			for (i = 0; i < nseen; i++)
				if (seenl[i] == kl && memcmp(seen[i], k, kl) == 0)
					goto fail;
			seen[nseen] = k;
			seenl[nseen++] = kl;
		} else if (json_object_object_get_ex(o, key, NULL))
			goto fail;
		if (f->p >= f->end)
			goto fail;
		if (*f->p == '"') {
			if (jscan_str(f, &s, &sl) == -1 ||
			    (v = json_object_new_string_len(s, (int)sl)) ==
			    NULL)
				goto fail;
		} else if (*f->p == '{') {
			if ((v = jscan_obj(f, depth + 1)) == NULL)
				goto fail;
		} else if (jscan_lit(f, "null"))
			v = NULL;
		else if (jscan_lit(f, "true")) {
			if ((v = json_object_new_boolean(1)) == NULL)
				goto fail;
		} else if (jscan_lit(f, "false")) {
			if ((v = json_object_new_boolean(0)) == NULL)
				goto fail;
		} else {
			start = f->p;
			r = jscan_num(f, &n, &d);
			if (r == 1)
				v = json_object_new_int64(n);
			else if (r == 2) {
				/* the text kept, as json-c's tokener does */
				memcpy(num, start, (size_t)(f->p - start));
				num[f->p - start] = '\0';
				v = json_object_new_double_s(d, num);
			} else
				goto fail;
			if (v == NULL)
				goto fail;
		}
		/* not there (above): json-c need not look it up again */
		if (json_object_object_add_ex(o, key, v,
		    JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
			json_object_put(v);
			goto fail;
		}
	} while ((r = jscan_next(f)) == 1);
	if (r == 0)
		return o;
fail:
	json_object_put(o);
	return NULL;
}

static struct json_tokener *parse_tok;

json_object *
pyjson_parse(const char *buf, size_t len, int *isnull, const char **errstr)
{
	struct json_tokener	*tok;
	struct jscan		 f;
	json_object		*obj;
	enum json_tokener_error	 jerr;
	char			*fixed = NULL;
	size_t			 end, fixedlen;

	if (isnull != NULL)
		*isnull = 0;
	*errstr = NULL;
	if (buf == NULL || len == 0) {
		*errstr = "empty JSON document";
		return NULL;
	}
	if (len > MAX_ENVELOPE) {
		*errstr = "JSON document too large";
		return NULL;
	}
	/* json-c stops at a NUL; JSON never has a raw one anyway. */
	if (memchr(buf, '\0', len) != NULL) {
		*errstr = "NUL byte in JSON document";
		return NULL;
	}
	/* An object of the simple shape needs no tokener (jscan_obj()). */
	f.p = buf;
	f.end = buf + len;
	jscan_ws(&f);
	if ((obj = jscan_obj(&f, 1)) != NULL) {
		jscan_ws(&f);
		if (f.p == f.end)
			return obj;
		json_object_put(obj);
	}
	if (fix_pairs(buf, len, NULL, &fixedlen) > 0) {
		if ((fixed = malloc(len)) == NULL) {
			*errstr = "out of memory";
			return NULL;
		}
		fix_pairs(buf, len, fixed, &fixedlen);
		buf = fixed;
		len = fixedlen;
	}
	/*
	 * One tokener for the life of the process (single-threaded callers):
	 * a fresh one per document costs two allocations and their frees.
	 */
	if (parse_tok == NULL &&
	    (parse_tok = json_tokener_new_ex(MAX_JSON_DEPTH)) == NULL) {
		free(fixed);
		*errstr = "out of memory";
		return NULL;
	}
	tok = parse_tok;
	json_tokener_reset(tok);
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success) {
		/* Only whitespace may follow (Python's json.loads). */
		for (end = json_tokener_get_parse_end(tok); end < len; end++)
			if (strchr(" \t\n\r", buf[end]) == NULL) {
				json_object_put(obj);
				free(fixed);
				*errstr = "trailing garbage after JSON";
				return NULL;
			}
	} else if (jerr == json_tokener_continue) {
		/* A bare number or literal ends only at the end of input. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		*errstr = jerr == json_tokener_continue ?
		    "truncated JSON document" : json_tokener_error_desc(jerr);
		free(fixed);
		return NULL;
	}
	free(fixed);
	if (obj == NULL && isnull != NULL)
		*isnull = 1;
	return obj;
}

/* repr() of a Python str holding the UTF-8 text s[0..len). */
static void
string_repr(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 i, n;
	char			 quote = '\'';

	/* Python picks " only when there is a ' and no ". */
	if (memchr(s, '\'', len) != NULL && memchr(s, '"', len) == NULL)
		quote = '"';
	buf_addc(b, quote);
	for (i = 0; i < len && b->err == 0; i += n) {
		if ((n = utf8_decode(u + i, len - i, &cp)) == 0) {
			/* Python's surrogateescape view of a stray byte. */
			buf_addf(b, "\\udc%02x", u[i]);
			n = 1;
		} else if (cp == (uint32_t)quote || cp == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)cp);
		} else if (cp == '\t')
			buf_adds(b, "\\t");
		else if (cp == '\n')
			buf_adds(b, "\\n");
		else if (cp == '\r')
			buf_adds(b, "\\r");
		else if (py_isprintable(cp))
			buf_add(b, s + i, n);
		else if (cp < 0x100)
			buf_addf(b, "\\x%02x", (unsigned)cp);
		else if (cp < 0x10000)
			buf_addf(b, "\\u%04x", (unsigned)cp);
		else
			buf_addf(b, "\\U%08x", (unsigned)cp);
	}
	buf_addc(b, quote);
}

char *
pyjson_repr(json_object *obj)
{
	struct buf	 b = { 0 };
	char		 num[48];
	double		 d;

	switch (json_object_get_type(obj)) {
	case json_type_null:
		buf_adds(&b, "None");
		break;
	case json_type_boolean:
		buf_adds(&b, json_object_get_boolean(obj) ? "True" : "False");
		break;
	case json_type_int:
		int_dump(&b, obj);
		break;
	case json_type_double:
		d = json_object_get_double(obj);
		if (isnan(d))
			buf_adds(&b, "nan");
		else if (isinf(d))
			buf_adds(&b, d < 0 ? "-inf" : "inf");
		else if (float_repr(d, num, sizeof(num)) == 0)
			buf_adds(&b, num);
		else
			b.err = EINVAL;
		break;
	case json_type_string:
		string_repr(&b, json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj));
		break;
	case json_type_array:
		buf_adds(&b, "list");
		break;
	case json_type_object:
		buf_adds(&b, "dict");
		break;
	default:
		b.err = EINVAL;
		break;
	}
	return buf_finish(&b, NULL);
}
