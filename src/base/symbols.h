/* symbols.h - the link-time names of kiln's internal functions and variables.
 *
 * Sources use readable names (interp_call, decode_module). CMakeLists.txt force-includes this
 * header (-include) in every compilation of libkiln, libkiln_llvm and the internal programs,
 * and it renames each non-static internal symbol to kiln__NAME, so that the static libraries
 * define nothing outside the kiln_ prefix and an embedder's own error_set or interp_call cannot
 * collide with ours at link time (hidden visibility does not help there: libuv's uv__ and
 * Lua's luaK_ prefixes exist for the same reason). The CTest symbol_prefix
 * (tests/symbols/check_prefix.sh) fails when a new non-static function or variable is missing
 * here, and prints the line to add. One line per symbol, sorted. */
#ifndef KILN_SYMBOLS_H
#define KILN_SYMBOLS_H

#define bulk_memory_copy kiln__bulk_memory_copy
#define bulk_memory_fill kiln__bulk_memory_fill
#define bulk_memory_init kiln__bulk_memory_init
#define bulk_table_copy kiln__bulk_table_copy
#define bulk_table_fill kiln__bulk_table_fill
#define bulk_table_grow kiln__bulk_table_grow
#define bulk_table_init kiln__bulk_table_init
#define codeload_image_code_range kiln__codeload_image_code_range
#define codeload_image_free kiln__codeload_image_free
#define codeload_image_function kiln__codeload_image_function
#define codeload_image_function_at kiln__codeload_image_function_at
#define codeload_image_function_count kiln__codeload_image_function_count
#define codeload_image_has_pc kiln__codeload_image_has_pc
#define codeload_image_load kiln__codeload_image_load
#define codeload_image_size kiln__codeload_image_size
#define codeload_image_symbol kiln__codeload_image_symbol
#define compile_function kiln__compile_function
#define compiled_func_free kiln__compiled_func_free
#define decode_module kiln__decode_module
#define emit_control kiln__emit_control
#define emit_memory kiln__emit_memory
#define emit_numeric kiln__emit_numeric
#define emit_op_call kiln__emit_op_call
#define emit_table kiln__emit_table
#define engine_config_defaults kiln__engine_config_defaults
#define engine_create kiln__engine_create
#define engine_destroy kiln__engine_destroy
#define error_prefix kiln__error_prefix
#define error_set kiln__error_set
#define error_trap kiln__error_trap
#define func_validator_fail kiln__func_validator_fail
#define func_validator_free kiln__func_validator_free
#define func_validator_init kiln__func_validator_init
#define func_validator_next kiln__func_validator_next
#define instance_create kiln__instance_create
#define instance_destroy kiln__instance_destroy
#define instance_func_name kiln__instance_func_name
#define interp_call kiln__interp_call
#define interp_call_host kiln__interp_call_host
#define interp_handlers kiln__interp_handlers
#define lm_result_pack kiln__lm_result_pack
#define lm_result_type kiln__lm_result_type
#define lm_result_unpack kiln__lm_result_unpack
#define lf_alloca kiln__lf_alloca
#define lf_call_helper kiln__lf_call_helper
#define lf_call_vm_helper kiln__lf_call_vm_helper
#define lf_const_i32 kiln__lf_const_i32
#define lf_const_i64 kiln__lf_const_i64
#define lf_fail kiln__lf_fail
#define lf_gep kiln__lf_gep
#define lf_load_field kiln__lf_load_field
#define lf_poll kiln__lf_poll
#define lf_pop kiln__lf_pop
#define lf_push kiln__lf_push
#define lf_store_field kiln__lf_store_field
#define lf_trap kiln__lf_trap
#define lf_trap_if kiln__lf_trap_if
#define llvm_compile_module kiln__llvm_compile_module
#define llvm_target_description kiln__llvm_target_description
#define lm_valtype kiln__lm_valtype
#define memory_create kiln__memory_create
#define memory_destroy kiln__memory_destroy
#define memory_grow kiln__memory_grow
#define memory_pool_drain kiln__memory_pool_drain
#define module_create kiln__module_create
#define module_decl_free kiln__module_decl_free
#define module_describe kiln__module_describe
#define module_functype kiln__module_functype
#define module_release kiln__module_release
#define module_stats kiln__module_stats
#define native_abi_hash kiln__native_abi_hash
#define native_call kiln__native_call
#define native_code_add kiln__native_code_add
#define native_code_free kiln__native_code_free
#define native_code_new kiln__native_code_new
#define native_code_stats kiln__native_code_stats
#define native_helpers kiln__native_helpers
#define object_list_push kiln__object_list_push
#define op_infos kiln__op_infos
#define path_close_parent kiln__path_close_parent
#define path_open_beneath kiln__path_open_beneath
#define path_open_beneath_walk kiln__path_open_beneath_walk
#define path_parent_beneath kiln__path_parent_beneath
#define path_uses_openat2 kiln__path_uses_openat2
#define registry_intern kiln__registry_intern
#define store_add_global kiln__store_add_global
#define store_add_host_func kiln__store_add_host_func
#define store_add_memory kiln__store_add_memory
#define store_add_table kiln__store_add_table
#define store_call kiln__store_call
#define store_call_slots kiln__store_call_slots
#define store_create kiln__store_create
#define store_destroy kiln__store_destroy
#define table_create kiln__table_create
#define table_destroy kiln__table_destroy
#define table_grow kiln__table_grow
#define validate_const_expr kiln__validate_const_expr
#define validate_module kiln__validate_module
#define valtype_name kiln__valtype_name
#define wasi_errno_from_host kiln__wasi_errno_from_host
#define wasi_fd_advise kiln__wasi_fd_advise
#define wasi_fd_allocate kiln__wasi_fd_allocate
#define wasi_fd_close kiln__wasi_fd_close
#define wasi_fd_datasync kiln__wasi_fd_datasync
#define wasi_fd_fdstat_get kiln__wasi_fd_fdstat_get
#define wasi_fd_fdstat_set_flags kiln__wasi_fd_fdstat_set_flags
#define wasi_fd_fdstat_set_rights kiln__wasi_fd_fdstat_set_rights
#define wasi_fd_filestat_get kiln__wasi_fd_filestat_get
#define wasi_fd_filestat_set_size kiln__wasi_fd_filestat_set_size
#define wasi_fd_filestat_set_times kiln__wasi_fd_filestat_set_times
#define wasi_fd_get kiln__wasi_fd_get
#define wasi_fd_insert kiln__wasi_fd_insert
#define wasi_fd_pread kiln__wasi_fd_pread
#define wasi_fd_prestat_dir_name kiln__wasi_fd_prestat_dir_name
#define wasi_fd_prestat_get kiln__wasi_fd_prestat_get
#define wasi_fd_pwrite kiln__wasi_fd_pwrite
#define wasi_fd_read kiln__wasi_fd_read
#define wasi_fd_readdir kiln__wasi_fd_readdir
#define wasi_fd_release kiln__wasi_fd_release
#define wasi_fd_renumber kiln__wasi_fd_renumber
#define wasi_fd_seek kiln__wasi_fd_seek
#define wasi_fd_sync kiln__wasi_fd_sync
#define wasi_fd_tell kiln__wasi_fd_tell
#define wasi_fd_write kiln__wasi_fd_write
#define wasi_filetype_of_mode kiln__wasi_filetype_of_mode
#define wasi_iovecs kiln__wasi_iovecs
#define wasi_path_create_directory kiln__wasi_path_create_directory
#define wasi_path_filestat_get kiln__wasi_path_filestat_get
#define wasi_path_filestat_set_times kiln__wasi_path_filestat_set_times
#define wasi_path_link kiln__wasi_path_link
#define wasi_path_open kiln__wasi_path_open
#define wasi_path_readlink kiln__wasi_path_readlink
#define wasi_path_remove_directory kiln__wasi_path_remove_directory
#define wasi_path_rename kiln__wasi_path_rename
#define wasi_path_symlink kiln__wasi_path_symlink
#define wasi_path_unlink_file kiln__wasi_path_unlink_file
#define wasi_wait_readable kiln__wasi_wait_readable

#endif
