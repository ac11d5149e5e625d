# CMake's view of the contract's tables (contract/include/kiln/contract/*.def): the stages each
# model generates, and the optimizer kernels generated once per build. Read from the same rows the
# C++ code expands, so a row added there is built here without a second list. An installed kiln's
# package config sets KILN_CONTRACT_DIR to the installed headers first.
if(NOT KILN_CONTRACT_DIR)
  set(KILN_CONTRACT_DIR ${CMAKE_CURRENT_LIST_DIR}/../contract/include/kiln/contract)
endif()

# kiln_contract_names(<file.def> <MACRO> <out-var>): the first argument of every MACRO(...) row.
function(kiln_contract_names file macro out)
  file(STRINGS ${KILN_CONTRACT_DIR}/${file} rows REGEX "^${macro}\\(")
  set(names)
  foreach(row ${rows})
    string(REGEX REPLACE "^${macro}\\(([A-Za-z0-9_]+).*" "\\1" name "${row}")
    list(APPEND names ${name})
  endforeach()
  if(NOT names)
    message(FATAL_ERROR "contract table ${file} has no ${macro}(...) rows")
  endif()
  set(${out} ${names} PARENT_SCOPE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${KILN_CONTRACT_DIR}/${file})
endfunction()

# The CPU tiers' Halide targets, best first (cpu_targets.hpp's `tiers`).
file(STRINGS ${KILN_CONTRACT_DIR}/cpu_targets.hpp tier_rows REGEX "^ *Tier\\{\"")
set(KILN_CPU_TIER_TARGETS)
foreach(row ${tier_rows})
  string(REGEX REPLACE "^ *Tier\\{\"[^\"]*\", \"([^\"]*)\"}.*" "\\1" target "${row}")
  list(APPEND KILN_CPU_TIER_TARGETS ${target})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${KILN_CONTRACT_DIR}/cpu_targets.hpp)

kiln_contract_names(stages.def KILN_STAGE KILN_STAGES)
kiln_contract_names(optimizers.def KILN_OPTIMIZER_KERNEL KILN_OPTIMIZER_KERNELS)
kiln_contract_names(optimizers.def KILN_FUSED_UPDATE KILN_FUSED_UPDATES)
# kiln_add_model runs in whatever directory calls it (a project that includes kiln with
# add_subdirectory, or finds it installed), where kiln's own variables are not in scope.
set_property(GLOBAL PROPERTY KILN_STAGES ${KILN_STAGES})
set_property(GLOBAL PROPERTY KILN_FUSED_UPDATES ${KILN_FUSED_UPDATES})
