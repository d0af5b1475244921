/**
 * @file sp_json.h  libre and jansson in one translation unit
 *
 * libre's re_json.h and jansson.h both declare the enum constants
 * JSON_STRING and JSON_NULL. Files that use jansson include this header
 * instead of <re.h>: libre's two constants are renamed (nothing in libre's
 * headers refers to them by name), then jansson is included unchanged so
 * its json_is_string()/json_is_null() macros keep their meaning.
 */

#ifndef SIPPHONE_SP_JSON_H
#define SIPPHONE_SP_JSON_H

#define JSON_STRING RE_JSON_STRING
#define JSON_NULL   RE_JSON_NULL
#include <re.h>
#undef JSON_STRING
#undef JSON_NULL

#include <jansson.h>

#endif
