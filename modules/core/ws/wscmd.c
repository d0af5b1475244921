/**
 * @file wscmd.c  A WebSocket text message read as a command
 *
 * {"type":"command","id":<string or integer>,"command":<name>,
 * "args":<object>}: the text is decoded and checked here, in the order
 * the clients see the errors (invalid_json, invalid_message,
 * invalid_field, unknown_command), and nothing is sent: the hub runs the
 * command and answers.
 */

#include "sipphone.h"


/**
 * Decode a text message as a command
 *
 * @param cmd    Returned command; release with wscmd_reset(), also on
 *               error (its id may be set to echo in the answer)
 * @param text   Message text
 * @param len    Its length
 * @param findh  Finds the command by name: NULL if there is none
 * @param arg    Handler argument
 * @param err    Returned error for the client, on error
 *
 * @return 0 if success, otherwise errorcode (err says why)
 */
int wscmd_decode(struct wscmd *cmd, const char *text, size_t len,
		 wscmd_find_h *findh, void *arg, struct sp_err *err)
{
	json_error_t jerr;
	json_t *args;
	const char *type;

	if (!cmd)
		return EINVAL;

	memset(cmd, 0, sizeof(*cmd));
	if (!findh || !err)
		return EINVAL;

	/* any JSON value decodes: a scalar is a message, just not ours */
	cmd->msg = json_loadb(text, len,
			      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!cmd->msg)
		return sp_err_set(err, 400, "invalid_json",
				  "invalid JSON at column %d: %s",
				  jerr.column, jerr.text);

	if (!json_is_object(cmd->msg))
		return sp_err_set(err, 400, "invalid_message",
				  "a message must be a JSON object");

	/* from here on an answer carries the id, as far as it is one */
	cmd->id = json_object_get(cmd->msg, "id");

	type = json_string_value(json_object_get(cmd->msg, "type"));
	if (str_cmp(type, "command"))
		return sp_err_set(err, 400, "invalid_message",
				  "unknown message type (send"
				  " {\"type\":\"command\",...})");

	if (cmd->id && !json_is_string(cmd->id) &&
	    !json_is_integer(cmd->id)) {
		cmd->id = NULL;
		return sp_err_set(err, 400, "invalid_field",
				  "\"id\" must be a string or a number");
	}

	cmd->name = json_string_value(json_object_get(cmd->msg, "command"));
	cmd->found = cmd->name ? findh(cmd->name, arg) : NULL;
	if (!cmd->found)
		return sp_err_set(err, 400, "unknown_command",
				  "unknown command %s",
				  cmd->name ? cmd->name : "(none)");

	args = json_object_get(cmd->msg, "args");
	if (args && !json_is_object(args))
		return sp_err_set(err, 400, "invalid_field",
				  "\"args\" must be an object");

	if (!args) {
		args = json_object();
		if (json_object_set_new(cmd->msg, "args", args))
			return sp_err_set(err, 500, "internal_error",
					  "out of memory");
	}

	cmd->args = args;

	return 0;
}


/** Release a decoded command */
void wscmd_reset(struct wscmd *cmd)
{
	if (!cmd)
		return;

	json_decref(cmd->msg);
	memset(cmd, 0, sizeof(*cmd));
}
