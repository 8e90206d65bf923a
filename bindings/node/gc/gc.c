/* gc.c - kiln_gc.node: the Node-API environment in which the addon (kiln.node) registers its
 * finalizers, so that they run inside garbage collection.
 *
 * Node-API's experimental version runs an environment's finalizers during garbage collection
 * itself ("pure" finalizers), so that modules and instances dropped in a loop that never
 * yields are freed in time; otherwise they wait for the event loop to turn. But Node (20 and
 * later) calls each such finalizer as a callback into its environment and then takes an
 * exception pending in that environment for one the finalizer threw: reported as uncaught,
 * by calling JavaScript in the middle of the collection, a fatal error. In kiln.node's own
 * environment an exception is pending whenever one of its functions throws (until V8 has
 * taken it, which allocates and can collect). So the finalizers live in this second
 * environment, which never calls JavaScript and never throws: kiln.node (the standard
 * Node-API version) wraps its objects through the environment this module exports, and
 * works, with finalizers that wait for the event loop, where this module is absent. */
#include <node_api.h>

NAPI_MODULE_INIT() {
  napi_value handle;
  if (napi_create_external(env, env, NULL, NULL, &handle) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "env", handle) != napi_ok) return NULL;
  return exports;
}
