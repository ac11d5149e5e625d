# kiln_add_model(NAME HEADER <model.hpp> [NETWORK <expression>] [AUTOSCHEDULER <name>] [LIBRARY_ONLY])
#
# Generates NAME's kernels from the network declared in HEADER (default expression: `network`)
# and builds the model binary NAME (unless LIBRARY_ONLY). AUTOSCHEDULER schedules every stage with
# one of Halide's autoschedulers (Mullapudi2016, Adams2019, Li2018) instead of kiln's hand
# schedules. Targets:
#   NAME_gen      the generator (links libHalide; runs at build time only)
#   NAME_kernels  the generated static libraries + NAME.kiln.h descriptor (no libHalide)
#   NAME          the model binary: train | eval | predict | grad | summary
set(KILN_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(kiln_add_model name)
  cmake_parse_arguments(ARG "LIBRARY_ONLY" "HEADER;NETWORK;AUTOSCHEDULER" "" ${ARGN})
  set(scheduler_flags)
  set(scheduler_depends)
  if(ARG_AUTOSCHEDULER)
    if(NOT ARG_AUTOSCHEDULER MATCHES "^(Mullapudi2016|Adams2019|Li2018)$")
      message(FATAL_ERROR "kiln_add_model(${name}): AUTOSCHEDULER must be Mullapudi2016, Adams2019 or Li2018, not ${ARG_AUTOSCHEDULER}")
    endif()
    if(NOT TARGET Halide::${ARG_AUTOSCHEDULER})
      message(FATAL_ERROR "kiln_add_model(${name}): this Halide has no ${ARG_AUTOSCHEDULER} plugin")
    endif()
    set(scheduler_flags --scheduler ${ARG_AUTOSCHEDULER} --plugin $<TARGET_FILE:Halide::${ARG_AUTOSCHEDULER}>)
    set(scheduler_depends Halide::${ARG_AUTOSCHEDULER})
  endif()
  if(NOT ARG_HEADER)
    message(FATAL_ERROR "kiln_add_model(${name}): HEADER <model.hpp> is required")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "kiln_add_model(${name}): the name must be a C identifier (it names generated functions)")
  endif()
  if(NOT ARG_NETWORK)
    set(ARG_NETWORK network)
  endif()
  get_filename_component(KILN_MODEL_HEADER ${ARG_HEADER} ABSOLUTE)
  set(KILN_MODEL_NETWORK ${ARG_NETWORK})
  set(KILN_MODEL_NAME ${name})
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_generated)
  file(MAKE_DIRECTORY ${dir})

  configure_file(${KILN_CMAKE_DIR}/generator_main.cpp.in ${dir}/${name}_gen.cpp @ONLY)
  add_executable(${name}_gen ${dir}/${name}_gen.cpp)
  target_link_libraries(${name}_gen PRIVATE kiln::codegen)

  set(libraries)
  set(outputs ${dir}/${name}.kiln.h)
  foreach(stage infer evaluate activations forward backward)
    list(APPEND libraries ${dir}/${name}_${stage}.a)
    list(APPEND outputs ${dir}/${name}_${stage}.a ${dir}/${name}_${stage}.h)
  endforeach()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${name}_gen --name ${name} --output ${dir} --target ${KILN_HALIDE_TARGET} ${scheduler_flags}
    DEPENDS ${name}_gen ${scheduler_depends}
    COMMENT "kiln: generating kernels for ${name}"
    VERBATIM)
  add_custom_target(${name}_generate DEPENDS ${outputs})

  add_library(${name}_kernels INTERFACE)
  add_dependencies(${name}_kernels ${name}_generate)
  target_include_directories(${name}_kernels INTERFACE ${dir})
  target_link_libraries(${name}_kernels INTERFACE ${libraries} kiln::runtime)

  if(NOT ARG_LIBRARY_ONLY)
    configure_file(${KILN_CMAKE_DIR}/model_main.cpp.in ${dir}/${name}_main.cpp @ONLY)
    add_executable(${name} ${dir}/${name}_main.cpp)
    target_link_libraries(${name} PRIVATE ${name}_kernels)
  endif()
endfunction()
