# `cmake --install <build> --prefix P` installs what a project needs to build its own models with
# kiln: the headers, the codegen and runtime libraries, the kernels generated once per build (the
# Halide runtime, the optimizer kernels, the FMA-peak kernel), kiln_add_model and a package config,
# so that `find_package(kiln REQUIRED)` + `kiln_add_model(...)` work from any CMake project.
include(CMakePackageConfigHelpers)
set(KILN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)

install(DIRECTORY contract/include/ dsl/include/ codegen/include/ runtime/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS kiln_contract kiln_dsl kiln_codegen kiln_runtime kiln_optimizer_kernels_lib kiln_halide_runtime_lib
        EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
list(TRANSFORM KILN_GENERATED_LIBRARIES PREPEND ${KILN_GENERATED_DIR}/ OUTPUT_VARIABLE kiln_generated_files)
install(FILES ${kiln_generated_files} DESTINATION ${CMAKE_INSTALL_LIBDIR}/kiln)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/kilnConfig.cmake.in ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${KILN_INSTALL_CMAKEDIR}
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor version may change the descriptor format, so only the same minor version matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              cmake/kiln.cmake cmake/contract_tables.cmake cmake/generator_main.cpp.in cmake/model_main.cpp.in
        DESTINATION ${KILN_INSTALL_CMAKEDIR})
