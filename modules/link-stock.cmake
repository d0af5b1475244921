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
  if(NOT EXISTS "${DST}/${name}" OR IS_SYMLINK "${DST}/${name}")
    file(CREATE_LINK "${target}" "${DST}/${name}" SYMBOLIC)
  endif()
endforeach()
