# kiln_add_model(NAME HEADER <model.hpp> [NETWORK <expression>] [AUTOSCHEDULER <name>]
#                [SCHEDULE <plan.json>|default] [TUNE_BATCH <rows>] [TARGETS <t1,t2,…>]
#                [FUSED_OPTIMIZERS <name>…|all] [LIBRARY_ONLY])
#
# Generates NAME's kernels from the network declared in HEADER (default expression: `network`)
# and builds the model binary NAME (unless LIBRARY_ONLY). Schedules come from the plan SCHEDULE
# (default: schedules/NAME.<KILN_HALIDE_TARGET's first target>.json beside the CMakeLists, used when it exists
# and matches the network; `default`: kiln's hand heuristics only), or from one of Halide's
# autoschedulers (AUTOSCHEDULER Mullapudi2016, Adams2019, Li2018). TARGETS (default
# KILN_HALIDE_TARGET): the Halide target of the kernels, or several, comma-separated and best
# first, for kernels that carry a variant each and run the first the CPU has the features for
# (each variant scheduled for its own target's registers, the first from the plan; the build's runtime and optimizer kernels are
# KILN_HALIDE_TARGET's, so a binary meant for older CPUs sets KILN_HALIDE_TARGET itself). Targets:
#   NAME_gen      the generator (links libHalide; runs at build time only)
#   NAME_kernels  the generated static libraries + NAME.kiln.h descriptor (no libHalide)
#   NAME          the model binary: train | eval | predict | grad | summary | bench | …
# FUSED_OPTIMIZERS (default none; `all`: every optimizer with a per-element step, optimizers.def's
# KILN_FUSED_UPDATE rows): the optimizers that get a backward stage of their own with their step
# fused in (backward_<optimizer>, one more backward stage to generate and compile each), which
# `train --fused-optimizer-step` runs.
#   NAME_tune     the autotuner: times schedule candidates on this machine at TUNE_BATCH rows
#                 (default KILN_TUNE_BATCH) for KILN_TUNE_BUDGET seconds, writes the plan to
#                 SCHEDULE; the next build compiles with it
set(KILN_TUNE_BUDGET 120 CACHE STRING "seconds <model>_tune spends searching schedules")
set(KILN_TUNE_BATCH 128 CACHE STRING "batch size <model>_tune times stages at")
set(KILN_TUNE_COMPARE "Mullapudi2016;Adams2019" CACHE STRING "Halide autoschedulers <model>_tune times for comparison")

function(kiln_add_model name)
  # This file's directory (kiln's cmake/, or the installed package's): the templates beside it.
  set(templates ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  get_property(stages GLOBAL PROPERTY KILN_STAGES)
  get_property(fusable GLOBAL PROPERTY KILN_FUSED_UPDATES)
  cmake_parse_arguments(ARG "LIBRARY_ONLY" "HEADER;NETWORK;AUTOSCHEDULER;SCHEDULE;TUNE_BATCH;TARGETS" "FUSED_OPTIMIZERS" ${ARGN})
  if(NOT ARG_FUSED_OPTIMIZERS)
    set(ARG_FUSED_OPTIMIZERS none)
  elseif(ARG_FUSED_OPTIMIZERS STREQUAL "all")
    set(ARG_FUSED_OPTIMIZERS ${fusable})
  endif()
  set(fused_stages)
  if(NOT ARG_FUSED_OPTIMIZERS STREQUAL "none")
    foreach(optimizer ${ARG_FUSED_OPTIMIZERS})
      if(NOT optimizer IN_LIST fusable)
        message(FATAL_ERROR "kiln_add_model(${name}): FUSED_OPTIMIZERS: ${optimizer} has no per-element step (one of: ${fusable})")
      endif()
      list(APPEND fused_stages backward_${optimizer})
    endforeach()
  endif()
  string(REPLACE ";" "," fuse_flag "${ARG_FUSED_OPTIMIZERS}")
  if(NOT ARG_TARGETS)
    set(ARG_TARGETS ${KILN_HALIDE_TARGET})
  endif()
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
  # The generated files: here, or in the build KILN_KERNELS_FROM names (at the same path below it).
  set(kernels_dir ${dir})
  if(KILN_KERNELS_FROM)
    file(RELATIVE_PATH relative ${CMAKE_BINARY_DIR} ${dir})
    set(kernels_dir ${KILN_KERNELS_FROM}/${relative})
  endif()
  set(libraries)
  set(outputs ${kernels_dir}/${name}.kiln.h)
  foreach(stage ${stages} ${fused_stages})
    list(APPEND libraries ${kernels_dir}/${name}_${stage}.a)
    list(APPEND outputs ${kernels_dir}/${name}_${stage}.a ${kernels_dir}/${name}_${stage}.h)
  endforeach()

  if(KILN_KERNELS_FROM)
    if(NOT EXISTS ${kernels_dir}/${name}.kiln.h)
      message(FATAL_ERROR "kiln_add_model(${name}): KILN_KERNELS_FROM holds no kernels for it (${kernels_dir})")
    endif()
    add_custom_target(${name}_generate)
  else()
    configure_file(${templates}/generator_main.cpp.in ${dir}/${name}_gen.cpp @ONLY)
    add_executable(${name}_gen ${dir}/${name}_gen.cpp)
    target_link_libraries(${name}_gen PRIVATE kiln::codegen)
    target_compile_options(${name}_gen PRIVATE ${KILN_BUILD_TOOL_OPTIONS})  # runs once per build: compile it fast

    if(NOT ARG_SCHEDULE)
      # A multi-target build ("t1,t2,…") is tuned for, and its plan named after, its first target.
      string(REPLACE "," ";" targets "${ARG_TARGETS}")
      list(GET targets 0 primary_target)
      set(ARG_SCHEDULE ${CMAKE_CURRENT_SOURCE_DIR}/schedules/${name}.${primary_target}.json)
    endif()
    set(plan_flags)
    if(NOT ARG_SCHEDULE STREQUAL "default" AND NOT ARG_AUTOSCHEDULER)
      get_filename_component(ARG_SCHEDULE ${ARG_SCHEDULE} ABSOLUTE)
      set(plan_flags --schedule ${ARG_SCHEDULE})
      if(EXISTS ${ARG_SCHEDULE})
        list(APPEND scheduler_depends ${ARG_SCHEDULE})
      endif()
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${name}_gen --name ${name} --output ${dir} --target ${ARG_TARGETS} ${scheduler_flags} ${plan_flags}
              --fuse ${fuse_flag}
      DEPENDS ${name}_gen ${scheduler_depends}
      COMMENT "kiln: generating kernels for ${name}"
      VERBATIM)
    add_custom_target(${name}_generate DEPENDS ${outputs})

    if(plan_flags)
      if(NOT ARG_TUNE_BATCH)
        set(ARG_TUNE_BATCH ${KILN_TUNE_BATCH})
      endif()
      set(compare_flags)
      foreach(autoscheduler ${KILN_TUNE_COMPARE})
        if(TARGET Halide::${autoscheduler})
          list(APPEND compare_flags --compare ${autoscheduler}=$<TARGET_FILE:Halide::${autoscheduler}>)
        endif()
      endforeach()
      get_filename_component(plan_dir ${ARG_SCHEDULE} DIRECTORY)
      # Removing the descriptor makes the next build regenerate the kernels with the new plan.
      add_custom_target(${name}_tune
        COMMAND ${CMAKE_COMMAND} -E make_directory ${plan_dir}
        COMMAND ${name}_gen --name ${name} --output ${dir} --target ${ARG_TARGETS} ${plan_flags} --tune
                --budget ${KILN_TUNE_BUDGET} --tune-batch ${ARG_TUNE_BATCH} ${compare_flags}
        COMMAND ${CMAKE_COMMAND} -E remove ${dir}/${name}.kiln.h
        DEPENDS ${name}_gen
        COMMENT "kiln: tuning ${name}'s schedules for ${KILN_TUNE_BUDGET} s"
        USES_TERMINAL VERBATIM)
    endif()
  endif()  # generated here

  add_library(${name}_kernels INTERFACE)
  add_dependencies(${name}_kernels ${name}_generate)
  target_include_directories(${name}_kernels INTERFACE ${kernels_dir})
  target_link_libraries(${name}_kernels INTERFACE ${libraries} kiln::runtime)

  if(NOT ARG_LIBRARY_ONLY)
    configure_file(${templates}/model_main.cpp.in ${dir}/${name}_main.cpp @ONLY)
    add_executable(${name} ${dir}/${name}_main.cpp)
    target_link_libraries(${name} PRIVATE ${name}_kernels)
  endif()
endfunction()
