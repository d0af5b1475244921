# Link every stock baresip module from SRC into DST, keeping our own files.
# LINKDIR (optional): the folder DST stands for once installed (a package
# is staged elsewhere): the links are made relative to it, as Debian wants
# links within /usr
file(GLOB stock "${SRC}/*.so")
if(NOT stock)
  message(FATAL_ERROR "no baresip modules in ${SRC}: is baresip-core installed?")
endif()
file(MAKE_DIRECTORY "${DST}")
foreach(path IN LISTS stock)
  get_filename_component(name "${path}" NAME)
  set(target "${path}")
  if(LINKDIR)
    file(RELATIVE_PATH target "${LINKDIR}" "${path}")
  endif()
  set(link "${DST}/${name}")
  if(IS_SYMLINK "${link}")
    # every build runs this (scripts/package's too) while tests may be
    # loading modules from DST: a link already right is left alone
    file(READ_SYMLINK "${link}" now)
    if(now STREQUAL target)
      continue()
    endif()
  elseif(EXISTS "${link}")
    continue()
  endif()
  file(CREATE_LINK "${target}" "${link}" SYMBOLIC)
endforeach()
