# Third-party libraries that brook-server links from their static archives.
#
# Every shared library costs a process start its mapping, and every symbol another object takes from
# it a lookup through all the libraries loaded before it. For brook-server, which a test suite starts
# once per test run or per test (`--ephemeral`), that was about a quarter of its time to the ready
# line: OpenSSL alone brings ~4,900 symbol relocations and ~19,000 relative ones (bench/README.md,
# brook_process_bench). So the programs that set the target property BROOK_STATIC_THIRD_PARTY (see
# broker/CMakeLists.txt) link OpenSSL, Boost.JSON, RE2 and the compression libraries from the static
# archives their -dev packages ship (Debian 12's do), when BROOK_STATIC_THIRD_PARTY is ON and every
# archive is found; every other target (the libraries a test program embeds, the test programs) links
# the shared libraries as before, so that a program that also loads them through another library
# (librdkafka: OpenSSL, zstd, lz4) holds one copy. brook-server also links libstdc++ statically
# (BROOK_STATIC_CXX_RUNTIME below).
#
# brook_third_party(<name> SHARED <link items> STATIC <archive names without lib/.a> [STATIC_EXTRA <items>])
# makes the INTERFACE library brook_dep_<name>: the STATIC archives (then STATIC_EXTRA) for a
# consumer with the property set, the SHARED items otherwise. The SHARED items' include directories
# reach every consumer either way.

if(UNIX AND NOT APPLE)
  set(brook_static_third_party_default ON)
else()
  set(brook_static_third_party_default OFF)
endif()
option(BROOK_STATIC_THIRD_PARTY "brook-server links OpenSSL, Boost.JSON, RE2 and the compression libraries statically"
       ${brook_static_third_party_default})

# brook-server also links libstdc++ and libgcc statically where the compiler can (GCC's
# -static-libstdc++). The C++ libraries it holds must then be static or header-only, so that it has one
# copy of the C++ runtime: fmt and spdlog are used header-only in that case (Debian ships no static
# archive of either), and as shared libraries otherwise (a build with the option off, such as the
# sanitizer build, compiles about 15 % faster).
include(CheckLinkerFlag)
check_linker_flag(CXX "-static-libstdc++;-static-libgcc" BROOK_HAVE_STATIC_LIBSTDCXX)
if(BROOK_STATIC_THIRD_PARTY AND BROOK_HAVE_STATIC_LIBSTDCXX)
  set(BROOK_STATIC_CXX_RUNTIME ON)
else()
  set(BROOK_STATIC_CXX_RUNTIME OFF)
endif()

# True for a consumer that asks for static archives (and the option is on).
set(BROOK_WANTS_STATIC "$<BOOL:$<TARGET_PROPERTY:BROOK_STATIC_THIRD_PARTY>>")
if(NOT BROOK_STATIC_THIRD_PARTY)
  set(BROOK_WANTS_STATIC "0")
endif()

function(brook_third_party name)
  cmake_parse_arguments(DEP "" "" "SHARED;STATIC;STATIC_EXTRA" ${ARGN})
  add_library(brook_dep_${name} INTERFACE)
  set(archives)
  foreach(archive ${DEP_STATIC})
    find_library(BROOK_STATIC_LIB_${archive} NAMES ${CMAKE_STATIC_LIBRARY_PREFIX}${archive}${CMAKE_STATIC_LIBRARY_SUFFIX})
    if(NOT BROOK_STATIC_LIB_${archive})
      message(STATUS "No static ${archive} archive: brook-server links the shared ${name}")
      set(archives)
      break()
    endif()
    list(APPEND archives ${BROOK_STATIC_LIB_${archive}})
  endforeach()
  if(NOT archives OR NOT BROOK_STATIC_THIRD_PARTY)
    target_link_libraries(brook_dep_${name} INTERFACE ${DEP_SHARED})
    return()
  endif()
  foreach(item ${DEP_SHARED})
    target_link_libraries(brook_dep_${name} INTERFACE "$<$<NOT:${BROOK_WANTS_STATIC}>:${item}>")
    if(TARGET ${item})
      target_include_directories(brook_dep_${name} INTERFACE $<TARGET_PROPERTY:${item},INTERFACE_INCLUDE_DIRECTORIES>)
    endif()
  endforeach()
  foreach(item ${archives} ${DEP_STATIC_EXTRA})
    target_link_libraries(brook_dep_${name} INTERFACE "$<${BROOK_WANTS_STATIC}:${item}>")
  endforeach()
endfunction()
