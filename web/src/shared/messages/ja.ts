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
  'console.loading': '読み込んでいます…',
  'console.signIn.heading': 'サインイン',
  'console.signIn.note':
    '業務を行う自治体を選び、職員アカウントでサインインしてください。パスワードと認証アプリの確認コード（二要素認証）が必要です。',
  'console.signIn.tenant': '自治体',
  'console.signIn.submit': 'サインインする',
  'console.signIn.failed': 'サインインできませんでした。もう一度お試しください。',
  'console.signIn.denied': 'サインインが取り消されました。',
  'console.signIn.expired': 'サインインの有効期限が切れました。もう一度サインインしてください。',
  'console.signIn.insecure': 'このページは安全な接続（https）でのみサインインできます。',
  'console.signIn.noTenants': '自治体の一覧を読み込めませんでした。ページを再読み込みしてください。',
  'console.signedInAs': '{name}（{roles}）としてサインインしています。',
  'console.signOut': 'サインアウト',
  'console.role.admin': '管理者',
  'console.role.editor': '編集者',
  'console.role.approver': '承認者',
  'console.role.health-officer': '保健担当',
  'console.role.disaster-officer': '防災担当',
  'console.role.viewer': '閲覧者',
  'console.services.heading': '連携サービス',
  'console.services.lead':
    '住民が共通IDでログインして使うサービス（OpenID Connect クライアント）を登録します。サービスには住民ごとに異なる識別子（pairwise）が渡ります。',
  'console.services.none': '登録されたサービスはまだありません。',
  'console.services.failed': 'サービスの一覧を読み込めませんでした。',
  'console.services.new': 'サービスを登録する',
  'console.services.name': 'サービス名',
  'console.services.redirectUris': 'リダイレクトURI',
  'console.services.redirectUrisHint': 'https で始まるURIを、空白か改行で区切って入力します。',
  'console.services.backchannel': 'バックチャネル・ログアウトURI（任意）',
  'console.services.scopes': '求める情報',
  'console.services.public': 'スマートフォンアプリなど、秘密鍵を保管できないアプリ（公開クライアント）',
  'console.services.serviceAccess': 'サービス自身としてAPIを呼び出す（クライアントクレデンシャル）',
  'console.services.register': '登録する',
  'console.services.created': '「{name}」を登録しました',
  'console.services.secretOnce':
    'client_secret はこの画面でしか表示されません。安全な方法でサービス事業者に渡してください。',
  'console.scope.profile': '氏名',
  'console.scope.email': 'メールアドレス',
  'console.scope.address': '住所',
  'console.scope.phone': '電話番号',
  'console.scope.municipality': '住んでいる自治体（全国地方公共団体コード）',
  'console.scope.offline_access': 'ログアウト後の継続利用（リフレッシュトークン）',
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
