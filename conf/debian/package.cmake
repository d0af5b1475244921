#
# The Debian package: what goes where, and the package's control data.
# Included by the top CMakeLists.txt; `scripts/package` runs CPack's DEB
# generator on the build.
#
#   /usr/lib/sipphone/     httpctl.so, wsaudio.so, libsipphone.so and
#                          links to the stock baresip modules: the
#                          config's module_path, as the build's modules/
#   /etc/sipphone/config   conffile, root:sipphone 0640 (postinst):
#                          conf/config with the installed paths
#   /lib/systemd/system/sipphone.service   conf/systemd/
#   /usr/share/doc/sipphone/   copyright, changelog.gz, README.md, docs/
#   /var/lib/sipphone      not in the package: postinst makes it, 0700,
#                          for the system user sipphone; purge removes it
#
# The Depends are dpkg-shlibdeps' reading of our ELF files, plus
# baresip-core 1.0.0 (the API modules/include/bsapi.h declares) and
# adduser (postinst). The architecture is the build's (dpkg).
#
set(SIPPHONE_PKG_PREFIX /usr)
set(SIPPHONE_PKG_LIBDIR ${SIPPHONE_PKG_PREFIX}/lib/sipphone)
set(SIPPHONE_PKG_STATE_DIR /var/lib/sipphone)
set(SIPPHONE_PKG_DIR ${CMAKE_BINARY_DIR}/package)
set(pkg_src ${CMAKE_CURRENT_LIST_DIR})

# Files made for the package only (scripts/run uses conf/ as it is)
add_custom_command(OUTPUT ${SIPPHONE_PKG_DIR}/config
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR}/conf/config
          -DDST=${SIPPHONE_PKG_DIR}/config -DMODULE_DIR=${SIPPHONE_PKG_LIBDIR}
          -DSTATE_DIR=${SIPPHONE_PKG_STATE_DIR} -P ${pkg_src}/config.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/conf/config ${pkg_src}/config.cmake
  COMMENT "Making the installed config")
add_custom_command(OUTPUT ${SIPPHONE_PKG_DIR}/changelog.gz
  COMMAND sh -c "gzip -9nc < \"$0\" > \"$1\""
          ${pkg_src}/changelog ${SIPPHONE_PKG_DIR}/changelog.gz
  DEPENDS ${pkg_src}/changelog
  COMMENT "Compressing the Debian changelog"
  VERBATIM)
add_custom_target(package_files ALL DEPENDS
  ${SIPPHONE_PKG_DIR}/config ${SIPPHONE_PKG_DIR}/changelog.gz)

# Debian wants shared objects 0644; CMake installs them 0755
install(TARGETS sipphone httpctl wsaudio
  LIBRARY DESTINATION lib/sipphone
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(CODE "
  set(SRC \"${BARESIP_MODULE_DIR}\")
  set(DST \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/sipphone\")
  set(LINKDIR \"${SIPPHONE_PKG_LIBDIR}\")
  include(\"${CMAKE_SOURCE_DIR}/modules/link-stock.cmake\")")
install(FILES ${SIPPHONE_PKG_DIR}/config DESTINATION /etc/sipphone
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_SOURCE_DIR}/conf/systemd/sipphone.service
  DESTINATION /lib/systemd/system)
install(FILES ${pkg_src}/copyright ${SIPPHONE_PKG_DIR}/changelog.gz
  ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/sipphone)
# README.md links to docs/: the same layout
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION share/doc/sipphone/docs
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sipphone)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT
  "Seed e1001147 maintainers <maintainers@users.noreply.b-seed-e1001147.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "analog phone with a REST and WebSocket API (baresip modules)")
# CPack puts the summary above: this is the long description only
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"sipphone turns an analog telephone behind a Grandstream HT802 adapter into
an API: ring the phone, learn the number dialed, answer, hang up, send and
receive DTMF over REST; hear and talk to the phone over a WebSocket that
also carries every event; get signed webhooks; or use the operator console
in a browser.
.
It is a pair of baresip 1.0.0 modules (httpctl, wsaudio) and a shared
library, run as the systemd service sipphone under its own system user.")
set(CPACK_DEBIAN_PACKAGE_SECTION comm)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "baresip-core (>= 1.0.0), baresip-core (<< 1.0.1~), adduser")
# https webhooks check their server against the system's CAs
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${pkg_src}/conffiles ${pkg_src}/postinst ${pkg_src}/prerm
  ${pkg_src}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${SIPPHONE_PKG_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${SIPPHONE_PKG_DIR})
include(CPack)
