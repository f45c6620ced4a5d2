/**
 * The Japanese dictionary: the source of every visible string in the web shell.
 * English (en.ts) must carry the same keys; the type checker enforces it.
 */
export const ja = {
  'layout.brand': 'マチ',
  'layout.brandLabel': 'マチ 住民ポータルへ',
  'layout.documentTitle': '{title} | マチ',
  'layout.skipToContent': '本文へ移動',
  'layout.language': '表示言語',
  'layout.footerNav': 'マチのページ',
  'layout.footerNote': 'マチは、自治体が共同で利用できるオープンソースの都市OSです（Apache License 2.0）。',

  'page.portal': '住民ポータル',
  'page.console': '職員コンソール',
  'page.dashboard': 'オープンデータ ダッシュボード',

  'common.comingSoon': '準備中',

  'portal.heading': 'マチ 住民ポータル',
  'portal.lead':
    'お住まいの自治体の手続き、通知、予定、お知らせを、ひとつの場所で確認できるようにするためのポータルです。',
  'portal.login.heading': 'ログイン',
  'portal.login.note':
    '共通IDでのログインは準備中です。ご利用いただけるようになりましたら、このページでお知らせします。',
  'portal.login.action': 'ログイン（準備中）',
  'portal.services.heading': 'ポータルでできるようになること',
  'portal.services.procedures.title': 'My手続き',
  'portal.services.procedures.body': 'あなたに関係する手続きを、期限とあわせてお知らせします。',
  'portal.services.epost.title': '電子郵便ポスト',
  'portal.services.epost.body': '自治体からの通知を、紙の郵便に代えてオンラインで受け取れます。',
  'portal.services.calendar.title': 'Myカレンダー',
  'portal.services.calendar.body':
    'ごみの収集日や健診、催しなど、あなたに関係する予定をまとめて確認できます。',
  'portal.services.notices.title': 'お知らせ',
  'portal.services.notices.body': '防災情報や自治体からのお知らせを受け取れます。',

  'console.heading': '職員コンソール',
  'console.lead':
    '自治体の職員が、住民へのお知らせや電子郵便、手続きの案内、防災の業務を行うための画面です。',
  'console.signIn.heading': 'サインインが必要です',
  'console.signIn.note':
    '職員コンソールを利用するには、職員アカウントでのサインイン（二要素認証）が必要です。サインイン機能は準備中です。',
  'console.nav.heading': 'メニュー',
  'console.nav.notices.title': 'お知らせ配信',
  'console.nav.notices.body': '一度の作成で、ポータル、プッシュ通知、LINE、メールに配信します。',
  'console.nav.epost.title': '電子郵便',
  'console.nav.epost.body': '住民の電子郵便ポストへ通知を送ります。',
  'console.nav.procedures.title': '手続きカタログ',
  'console.nav.procedures.body': '住民に案内する手続きを登録し、管理します。',
  'console.nav.disaster.title': '防災',
  'console.nav.disaster.body': '避難情報の発信や、避難所の開設状況を管理します。',

  'dashboard.heading': 'オープンデータ ダッシュボード',
  'dashboard.lead':
    'マチを共同利用している自治体の一覧です。各自治体の全国地方公共団体コードもあわせて掲載しています。',
  'dashboard.tenants.heading': '参加自治体',
  'dashboard.tenants.loading': '参加自治体の一覧を読み込んでいます…',
  'dashboard.tenants.error':
    '申し訳ありません。参加自治体の一覧を読み込めませんでした。しばらくしてから、もう一度お試しください。',
  'dashboard.tenants.retry': 'もう一度読み込む',
  'dashboard.tenants.empty': '参加している自治体はまだありません。',
  'dashboard.tenants.summary': '参加市区町村数：{count}',
  'dashboard.tenants.asOf': '{time}（日本時間）時点',
  'dashboard.tenants.prefectureCode': '全国地方公共団体コード {code}',
  'dashboard.tenants.noMunicipalities': 'この都道府県から参加している市区町村はまだありません。',
  'dashboard.tenants.other': 'その他の自治体',
  'dashboard.tenants.columnName': '市区町村',
  'dashboard.tenants.columnCode': '団体コード',
} as const satisfies Record<string, string>;

/** A key of the dictionary; `t()` accepts nothing else. */
export type MessageKey = keyof typeof ja;

/** A dictionary for one language: every key, any wording. */
export type Messages = Record<MessageKey, string>;
