"""The Asterisk modules the line needs, and nothing else (modules.conf has autoload = no)."""

from __future__ import annotations

# Order matters only for "preload": sorcery and pjproject before res_pjsip.
PRELOAD = ("res_sorcery_config.so", "res_sorcery_memory.so", "res_sorcery_astdb.so")

MODULES = (
    # SIP (PJSIP) and media
    "res_pjproject.so", "res_pjsip.so", "res_pjsip_session.so", "chan_pjsip.so",
    "res_pjsip_authenticator_digest.so", "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so", "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_registrar.so", "res_pjsip_sdp_rtp.so", "res_pjsip_caller_id.so",
    "res_pjsip_rfc3326.so", "res_pjsip_diversion.so", "res_pjsip_dtmf_info.so",
    "res_pjsip_header_funcs.so", "res_pjsip_nat.so", "res_pjsip_acl.so",
    "res_pjsip_logger.so", "res_pjsip_pubsub.so", "res_pjsip_refer.so",
    "res_pjsip_dlg_options.so", "func_pjsip_endpoint.so", "func_pjsip_contact.so",
    "func_pjsip_aor.so",
    "res_rtp_asterisk.so", "res_timing_timerfd.so",
    "codec_ulaw.so", "codec_alaw.so", "codec_a_mu.so", "codec_gsm.so", "codec_resample.so",
    "format_wav.so", "format_pcm.so", "format_gsm.so", "format_sln.so", "format_wav_gsm.so",
    # Bridging
    "bridge_simple.so", "bridge_native_rtp.so", "bridge_holding.so", "bridge_softmix.so",
    "bridge_builtin_features.so",
    # Applications the dialplan and the controller use
    "app_queue.so", "app_dial.so", "app_playback.so", "app_read.so", "app_record.so",
    "app_userevent.so", "app_mixmonitor.so", "app_verbose.so", "app_stack.so", "app_exec.so",
    "app_echo.so", "app_milliwatt.so", "app_senddtmf.so", "app_playtones.so",
    "app_originate.so", "app_chanspy.so", "app_channelredirect.so", "app_softhangup.so",
    "app_waitforsilence.so", "app_celgenuserevent.so", "app_transfer.so", "app_if.so",
    "app_while.so", "app_sayunixtime.so", "app_controlplayback.so", "app_db.so",
    "app_cdr.so", "res_speech.so", "res_agi.so", "res_musiconhold.so", "res_clioriginate.so",
    "pbx_config.so", "pbx_spool.so",
    # Dialplan functions
    "func_callerid.so", "func_strings.so", "func_logic.so", "func_global.so",
    "func_channel.so", "func_cdr.so", "func_math.so", "func_db.so", "func_timeout.so",
    "func_dialplan.so", "func_hangupcause.so", "func_sprintf.so", "func_cut.so",
    "func_rand.so", "func_groupcount.so", "func_uri.so", "func_volume.so", "func_env.so",
    "func_devstate.so", "func_extstate.so", "func_export.so", "func_periodic_hook.so",
    "func_sayfiles.so", "func_uuid.so",
    # Call records: CDR and CEL to SQLite, queue_log to a file (logger.conf)
    "res_cdrel_custom.so", "cdr_sqlite3_custom.so", "cel_sqlite3_custom.so",
)


def load_lines() -> str:
    lines = [f"preload => {name}" for name in PRELOAD]
    lines += [f"load => {name}" for name in MODULES]
    return "\n".join(lines)
