#
# conf/config -> /etc/sipphone/config: the same settings, with the paths
# of the installed package and no console (no terminal). Run by the build
# (package.cmake):
#
#   cmake -DSRC=conf/config -DDST=<file> -DMODULE_DIR=/usr/lib/sipphone
#         -DSTATE_DIR=/var/lib/sipphone -P config.cmake
#
# Every edit must find its line: a change to conf/config that one of them
# no longer matches fails the build, rather than shipping a config that
# lacks it.
#
foreach(var SRC DST MODULE_DIR STATE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "config.cmake: -D${var}=... missing")
  endif()
endforeach()

file(READ "${SRC}" text)

# edit(<regex> <replacement>): replace the one match, or fail
function(edit regex repl)
  string(REGEX MATCHALL "${regex}" hits "${text}")
  list(LENGTH hits n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "config.cmake: ${n} matches of '${regex}' in ${SRC}")
  endif()
  string(REGEX REPLACE "${regex}" "${repl}" out "${text}")
  set(text "${out}" PARENT_SCOPE)
endfunction()

# the header says how to start it from the repo: say how it is run here
edit("^#\n# sipphone -- [^\n]*\n(#[^\n]*\n)*\n"
"#
# sipphone -- baresip 1.0.0 configuration of the installed service
#
# The repo's conf/config with the package's paths. Read when the service
# starts: after a change, `systemctl restart sipphone`. The keys are in
# docs/config.md. This file may hold tokens and SIP passwords: it is
# root:sipphone 0640.
#

# our modules, libsipphone.so and links to the stock baresip modules
module_path		${MODULE_DIR}

")

edit("\n# Modules \\(loaded from the working directory, see above\\)\n"
     "\n# Modules (from module_path, see above)\n")

# a service has no terminal: stdio.so would fail to load at every start
edit("\nmodule\t+stdio\\.so[^\n]*\n"
     "\n#module\t\t\tstdio.so\t# the console needs a terminal: none here\n")

# menu.so writes a call's status line to stderr every 100 ms: under
# systemd that is ten journal lines a second per call
edit("\nmodule_app\t+menu\\.so\n"
     "\nmodule_app\t\tmenu.so\nstatmode_default\toff\t\t# no call status line in the journal\n")

# the unit's StateDirectory=, made 0700 for the user sipphone
edit("\n#httpctl_state_dir[ \t][^\n]*\n"
     "\nhttpctl_state_dir	${STATE_DIR}	# the token, events, webhooks\n")

file(WRITE "${DST}" "${text}")
