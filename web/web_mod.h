/* web/web_mod.h - internal to web/: the moderators' routes (mod.c) for api.c's table. */
#ifndef TL_WEB_MOD_H
#define TL_WEB_MOD_H

#include "web_int.h"

int web_h_mod_held(struct web_call *c);
int web_h_mod_campaigns(struct web_call *c);
int web_h_mod_campaign_release(struct web_call *c);
int web_h_mod_campaign_reject(struct web_call *c);
int web_h_mod_report_release(struct web_call *c);
int web_h_mod_report_reject(struct web_call *c);
int web_h_mod_ban(struct web_call *c);
int web_h_mod_rules(struct web_call *c);
int web_h_mod_rules_reload(struct web_call *c);
int web_h_mod_rules_reload_get(struct web_call *c);
extern const char *const web_p_mod_held[];
extern const char *const web_p_mod_campaigns[];
extern const struct web_field web_f_mod_ban[];
extern const struct web_field web_f_mod_reload[];

#endif
