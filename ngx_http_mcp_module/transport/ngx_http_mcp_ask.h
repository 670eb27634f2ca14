
/*
 * Copyright (C) ngx_http_mcp_module authors
 */


#ifndef _NGX_HTTP_MCP_ASK_H_INCLUDED_
#define _NGX_HTTP_MCP_ASK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "transport/ngx_http_mcp_http.h"
#include "state/ngx_http_mcp_mailbox.h"


/* the most rounds of questions one call may ask */
#define NGX_HTTP_MCP_ASK_ROUNDS  8


/*
 * The backend of a call of a 2025 session answered input_required: its
 * requests go to the client on the call's event stream and the call waits
 * for the answers (NGX_DONE); NGX_DECLINED, it is answered as usual (and
 * bc->result may now be an error that says why it cannot ask); else what
 * the request is finalized with.
 */
ngx_int_t ngx_http_mcp_ask(ngx_http_request_t *r, ngx_http_mcp_ctx_t *ctx);

/*
 * The client's responses a POST brought (x->answers): to every worker of
 * every replica, where the call that waits for them takes them
 */
void ngx_http_mcp_ask_post(ngx_str_t *session, ngx_array_t *answers,
    ngx_pool_t *pool, ngx_log_t *log);

/* a letter of kind NGX_HTTP_MCP_LETTER_ANSWER, in each worker */
void ngx_http_mcp_ask_letter(ngx_http_mcp_letter_t *letter);

/*
 * notifications/cancelled for a call (its flight's ask): NGX_OK, it waited
 * for answers and is ended; NGX_DECLINED, it does not wait
 */
ngx_int_t ngx_http_mcp_ask_cancel(void *ask);


#endif /* _NGX_HTTP_MCP_ASK_H_INCLUDED_ */
